import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import {
  AMOUNT_SCHEMA,
  IsAmount,
  NameMatches,
  ProjectListQueryDto,
  ProjectOwnedDto,
} from '../../common/dto/common.dto';

export type AmountInput = number | { min?: number; max?: number };

export class CreateHardwareProfileDto extends ProjectOwnedDto {
  @ApiProperty({ example: 'small' }) @IsString() @NameMatches() name!: string;

  @ApiPropertyOptional({ ...AMOUNT_SCHEMA, description: 'vCPUs: n, or {min?, max?}', example: { min: 2 } })
  @IsOptional()
  @IsAmount()
  cpu?: AmountInput | null;

  @ApiPropertyOptional({
    ...AMOUNT_SCHEMA,
    description: 'Memory in MB: n, or {min?, max?}',
    example: { min: 2048, max: 8192 },
  })
  @IsOptional()
  @IsAmount()
  memoryMb?: AmountInput | null;

  @ApiPropertyOptional({ ...AMOUNT_SCHEMA, description: 'Root disk in GB: n, or {min?, max?}', example: 20 })
  @IsOptional()
  @IsAmount()
  storageGb?: AmountInput | null;

  @ApiPropertyOptional({ example: 'x86_64' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_]{1,32}$/, { message: 'arch must be like x86_64 or aarch64' })
  arch?: string | null;
}

export class UpdateHardwareProfileDto extends PartialType(
  OmitType(CreateHardwareProfileDto, ['project'] as const),
) {}

export class ListHardwareProfilesQueryDto extends ProjectListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) arch?: string;
}

export class MatchesQueryDto {
  @ApiPropertyOptional({ description: "Only the provider profiles reachable through this pool's family" })
  @IsOptional()
  @IsUUID()
  pool?: string;
}
