import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { NameMatches, ProjectListQueryDto, ProjectOwnedDto, QuotaDto } from '../../common/dto/common.dto';

export class CreatePoolFamilyDto extends ProjectOwnedDto {
  @ApiProperty({ example: 'general' }) @IsString() @NameMatches() name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string | null;

  @ApiPropertyOptional({ type: [String], description: 'Provider accounts (same project) its pools may use' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ArrayUnique()
  @IsUUID(undefined, { each: true })
  accountIds?: string[];

  @ApiPropertyOptional({ type: QuotaDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuotaDto)
  quota?: QuotaDto;
}

export class UpdatePoolFamilyDto extends PartialType(OmitType(CreatePoolFamilyDto, ['project'] as const)) {}

export class ListPoolFamiliesQueryDto extends ProjectListQueryDto {}
