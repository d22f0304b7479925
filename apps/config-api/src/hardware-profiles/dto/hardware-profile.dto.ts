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

/** A provider profile that satisfies the hardware profile. */
export class ProfileCandidateDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) providerId!: string;
  @ApiProperty() providerName!: string;
  @ApiProperty() name!: string;
  @ApiProperty() cpu!: number;
  @ApiProperty() memoryMb!: number;
  @ApiProperty() storageGb!: number;
  @ApiProperty() arch!: string;
  @ApiProperty({ nullable: true, type: Number }) costPerHour!: number | null;
  @ApiPropertyOptional({
    type: [String],
    description: "with ?pool=: the pool's accounts to launch it through",
  })
  accountIds?: string[];
}

export class ProfileRejectionDto {
  @ApiProperty({ format: 'uuid' }) profileId!: string;
  @ApiProperty() reason!: string;
}

/** GET /v1/hardware-profiles/{id}/matches. */
export class MatchesViewDto {
  @ApiProperty({ format: 'uuid' }) hardwareProfileId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) pool!: string | null;
  @ApiProperty({ type: ProfileCandidateDto, nullable: true }) chosen!: ProfileCandidateDto | null;
  @ApiProperty({ type: [ProfileCandidateDto] }) matches!: ProfileCandidateDto[];
  @ApiProperty({ type: [ProfileRejectionDto] }) rejections!: ProfileRejectionDto[];
}
