import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { NameMatches, ProjectListQueryDto, ProjectOwnedDto } from '../../common/dto/common.dto';

export class CreateImageDto extends ProjectOwnedDto {
  @ApiProperty({ example: 'ubuntu-24.04' }) @IsString() @NameMatches() name!: string;
  @ApiPropertyOptional({ example: 'linux' }) @IsOptional() @IsString() @MaxLength(64) os?: string | null;
  @ApiPropertyOptional({ example: 'x86_64' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9_]{1,32}$/, { message: 'arch must be like x86_64 or aarch64' })
  arch?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string | null;
}

export class UpdateImageDto extends PartialType(OmitType(CreateImageDto, ['project'] as const)) {}

export class ListImagesQueryDto extends ProjectListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) os?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) arch?: string;
}
