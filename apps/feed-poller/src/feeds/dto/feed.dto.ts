import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { START_AT, StartAt } from '../feed.types';

export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 86_400_000;
export const MAX_PAGE_LIMIT = 1000;

/** Write-only credentials: `basic` (username, password) or `bearer` (token). */
export class FeedCredentialsDto {
  @ApiProperty({ enum: ['basic', 'bearer'] })
  @IsIn(['basic', 'bearer'])
  type!: 'basic' | 'bearer';

  @ApiPropertyOptional()
  @ValidateIf((o: FeedCredentialsDto) => o.type === 'basic')
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  username?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @ValidateIf((o: FeedCredentialsDto) => o.type === 'basic')
  @IsString()
  @MaxLength(2000)
  password?: string;

  @ApiPropertyOptional({ writeOnly: true })
  @ValidateIf((o: FeedCredentialsDto) => o.type === 'bearer')
  @IsString()
  @IsNotEmpty()
  @MaxLength(8000)
  token?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$/;

export class CreateFeedDto {
  @ApiProperty({ example: 'dfw-servers' })
  @IsString()
  @Matches(NAME, { message: 'name must be 1-200 letters, digits, spaces, ".", "_" or "-"' })
  name!: string;

  @ApiProperty({ example: 'https://atom.example.com/namespace/feed' })
  @IsString()
  @MaxLength(2000)
  url!: string;

  @ApiPropertyOptional({ default: 60000 })
  @IsOptional()
  @IsInt()
  @Min(MIN_INTERVAL_MS)
  @Max(MAX_INTERVAL_MS)
  intervalMs?: number;

  @ApiPropertyOptional({ default: 25, description: 'Entries per page (AtomHopper `limit`)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  pageLimit?: number;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    enum: START_AT,
    default: 'oldest',
    description: 'Where a feed without a cursor starts: its oldest entry, or after its newest',
  })
  @IsOptional()
  @IsIn(START_AT)
  startAt?: StartAt;

  @ApiPropertyOptional({ type: FeedCredentialsDto, writeOnly: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => FeedCredentialsDto)
  credentials?: FeedCredentialsDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  providerAccountId?: string;

  @ApiPropertyOptional({ description: 'Admins only: the project the feed belongs to' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  project?: string;
}

/** Optional, but never null: a field that is sent must be valid (its column is NOT NULL). */
const IfPresent = () => ValidateIf((_o: unknown, v: unknown) => v !== undefined);

/** Partial update; `credentials: null` removes them, `providerAccountId: null` clears it. */
export class UpdateFeedDto {
  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @Matches(NAME, { message: 'name must be 1-200 letters, digits, spaces, ".", "_" or "-"' })
  name?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional()
  @IfPresent()
  @IsInt()
  @Min(MIN_INTERVAL_MS)
  @Max(MAX_INTERVAL_MS)
  intervalMs?: number;

  @ApiPropertyOptional()
  @IfPresent()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  pageLimit?: number;

  @ApiPropertyOptional()
  @IfPresent()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ enum: START_AT })
  @IfPresent()
  @IsIn(START_AT)
  startAt?: StartAt;

  @ApiPropertyOptional({ type: FeedCredentialsDto, nullable: true, writeOnly: true })
  @IsOptional()
  @ValidateIf((o: UpdateFeedDto) => o.credentials !== null)
  @ValidateNested()
  @Type(() => FeedCredentialsDto)
  credentials?: FeedCredentialsDto | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((o: UpdateFeedDto) => o.providerAccountId !== null)
  @IsString()
  @MaxLength(200)
  providerAccountId?: string | null;
}

export class ListFeedsQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  limit?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ description: 'Admins: only this project' })
  @IsOptional()
  @IsString()
  project?: string;
}

export class ProjectQueryDto {
  @ApiPropertyOptional({ description: 'Admins: act in this project' })
  @IsOptional()
  @IsString()
  project?: string;
}

export class FeedStatusDto {
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'id of the last entry published (polling resumes there)',
  })
  cursor!: string | null;
  @ApiProperty({ description: 'consecutive failed polls' }) failures!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) nextPollAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastPolledAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastSuccessAt!: string | null;
  @ApiProperty() entriesPublished!: number;
}

/** A feed with its polling status (credentials never: only hasCredentials). */
export class FeedViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) project!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uri' }) url!: string;
  @ApiProperty() intervalMs!: number;
  @ApiProperty() pageLimit!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: START_AT }) startAt!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) providerAccountId!: string | null;
  @ApiProperty() hasCredentials!: boolean;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: FeedStatusDto }) status!: FeedStatusDto;
}
