import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  IsBoolQuery,
  NameMatches,
  ProjectListQueryDto,
  ProjectOwnedDto,
  QuotaDto,
} from '../../common/dto/common.dto';

export class CreateProviderAccountDto extends ProjectOwnedDto {
  @ApiProperty() @IsUUID() providerId!: string;
  @ApiProperty({ example: 'lab-admin' }) @IsString() @NameMatches() name!: string;

  @ApiPropertyOptional({
    description:
      'Write-only: encrypted at rest (AES-256-GCM envelope under NEPHELE_MASTER_KEY), never returned. null clears them.',
    example: { username: 'svc', password: '…', project: 'demo' },
  })
  @IsOptional()
  @IsObject()
  credentials?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: QuotaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuotaDto)
  quota?: QuotaDto;

  @ApiPropertyOptional({ default: 0, description: 'Strict priority group: lower values are tried first' })
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional({ default: 1, description: 'Share within its priority group' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  weight?: number;

  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateProviderAccountDto extends PartialType(
  OmitType(CreateProviderAccountDto, ['project', 'providerId'] as const),
) {}

export class ListProviderAccountsQueryDto extends ProjectListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() providerId?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptional() @IsBoolQuery() enabled?: string;
}
