import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

/** `PUT /v1/groups/{id}/servers/{sid}/protection`: whether a scale-in may remove the server. */
export class ServerProtectionDto {
  @ApiProperty({ description: 'true: never removed by a scale-in (Note [Victim choice])' })
  @IsBoolean()
  protected!: boolean;
}
