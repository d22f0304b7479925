import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ListQueryDto, NameMatches } from '../../common/dto/common.dto';

export const ROLES = ['admin', 'member', 'viewer'] as const;

export class CreateTokenDto {
  @ApiPropertyOptional({ description: 'The project of a member or viewer token (admin tokens have none)' })
  @IsOptional()
  @IsUUID()
  project?: string;

  @ApiProperty({ enum: ROLES }) @IsIn(ROLES) role!: (typeof ROLES)[number];
  @ApiProperty({ example: 'ci-pipeline' }) @IsString() @NameMatches() name!: string;
}

export class ListTokensQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() project?: string;
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) name?: string;
}
