import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';
import {
  IsBoolQuery,
  NameMatches,
  ProjectListQueryDto,
  ProjectOwnedDto,
  QuotaDto,
} from '../../common/dto/common.dto';

export class CreatePoolDto extends ProjectOwnedDto {
  @ApiProperty({ example: 'web' }) @IsString() @NameMatches() name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string | null;
  @ApiProperty({ description: 'Pool family (same project)' }) @IsUUID() familyId!: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ type: QuotaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuotaDto)
  quota?: QuotaDto;
}

export class UpdatePoolDto extends PartialType(OmitType(CreatePoolDto, ['project'] as const)) {}

export class ListPoolsQueryDto extends ProjectListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() familyId?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptional() @IsBoolQuery() enabled?: string;
}
