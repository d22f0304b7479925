import { Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CimiRefDto {
  @ApiProperty() @IsString() @MaxLength(2000) href!: string;
}

export class MachineTemplateInlineDto {
  @ApiPropertyOptional({ description: 'a MachineTemplate reference (then nothing else)' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  href?: string;
  @ApiPropertyOptional({ type: CimiRefDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CimiRefDto)
  machineConfig?: CimiRefDto;
  @ApiPropertyOptional({ type: CimiRefDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CimiRefDto)
  machineImage?: CimiRefDto;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(65536) userData?: string;
}

/** CIMI MachineCreate. */
export class MachineCreateDto {
  @ApiPropertyOptional() @IsOptional() @IsString() resourceURI?: string;
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'name may contain letters, digits, ".", "_" and "-"' })
  name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() properties?: Record<string, string>;
  @ApiProperty({ type: MachineTemplateInlineDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => MachineTemplateInlineDto)
  machineTemplate!: MachineTemplateInlineDto;
}

/** CIMI Action (POST to an operation's href). */
export class ActionDto {
  @ApiPropertyOptional() @IsOptional() @IsString() resourceURI?: string;
  @ApiProperty({ description: 'http://schemas.dmtf.org/cimi/2/action/start|stop|restart' })
  @IsIn(
    ['start', 'stop', 'restart'].flatMap((a) => [
      `http://schemas.dmtf.org/cimi/2/action/${a}`,
      `http://schemas.dmtf.org/cimi/1/action/${a}`,
    ]),
  )
  action!: string;
  @ApiPropertyOptional() @IsOptional() @IsObject() properties?: Record<string, string>;
}
