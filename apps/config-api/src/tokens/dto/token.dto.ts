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

/** A token as listed and read: never its value. */
export class TokenViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['admin', 'member', 'viewer'] }) role!: string;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'null for admin tokens' }) project!:
    string | null;
  @ApiProperty({ description: 'id of the token that created it, or system' }) createdBy!: string;
  @ApiProperty({ format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

/** The created token, with its value: shown this once. */
export class CreatedTokenDto extends TokenViewDto {
  @ApiProperty({ example: 'nph_…', description: 'the bearer value; only its SHA-256 is stored' })
  token!: string;
}
