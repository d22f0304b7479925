import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { REFRESH_STATUSES } from '@nephele/scaling';

/** Defaults of a refresh's settings (AWS's minimum healthy percentage; one server at a time). */
export const REFRESH_DEFAULTS = { minHealthyPercentage: 90, batchSize: 1, warmup: 300 } as const;

/**
 * `POST /v1/groups/{id}/refresh`, and `refresh` in `PUT …/launch`: how an instance refresh
 * replaces the servers (Note [Instance refresh]). Every field is optional.
 */
export class StartRefreshDto {
  @ApiPropertyOptional({
    description: 'The healthy servers never drop below this percentage of the desired capacity',
    minimum: 0,
    maximum: 100,
    default: REFRESH_DEFAULTS.minHealthyPercentage,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  minHealthyPercentage?: number;

  @ApiPropertyOptional({
    description: 'At most this many servers are replaced at once',
    minimum: 1,
    maximum: 1000,
    default: REFRESH_DEFAULTS.batchSize,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  batchSize?: number;

  @ApiPropertyOptional({
    description: 'Seconds a batch has to become healthy before the refresh rolls back',
    minimum: 1,
    maximum: 86400,
    default: REFRESH_DEFAULTS.warmup,
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(86400)
  warmup?: number;

  @ApiPropertyOptional({
    description:
      "Launch each batch's new servers on top of the desired capacity and retire its old ones only once the new ones are healthy",
    default: false,
  })
  @IsOptional()
  @IsBoolean()
  launchBeforeRetire?: boolean;
}

export class RefreshSpecView {
  @ApiProperty() minHealthyPercentage!: number;
  @ApiProperty() batchSize!: number;
  @ApiProperty({ description: 'seconds' }) warmup!: number;
  @ApiPropertyOptional() launchBeforeRetire?: boolean;
}

export class RefreshBatchView {
  @ApiProperty() startedAt!: string;
  @ApiProperty({ type: [String], description: 'Old servers this batch replaces' }) retire!: string[];
  @ApiProperty({ description: 'New servers this batch launches' }) launch!: number;
  @ApiPropertyOptional({ description: 'The new servers launch before the old ones are retired' })
  surge?: boolean;
}

/** An instance refresh with its progress. */
export class RefreshView {
  @ApiProperty() id!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty({ enum: REFRESH_STATUSES }) status!: string;
  @ApiProperty({ type: RefreshSpecView }) spec!: RefreshSpecView;
  @ApiProperty({ description: 'The launch-config version servers move to' }) toVersion!: number;
  @ApiProperty() fromVersion!: number;
  @ApiProperty({ description: 'Servers the refresh brings to toVersion (the desired capacity)' })
  total!: number;
  @ApiProperty({ description: 'Servers already at toVersion and healthy' }) replaced!: number;
  @ApiProperty({ description: 'replaced / total, 0–100 (100 when total is 0)' }) percentComplete!: number;
  @ApiProperty() batches!: number;
  @ApiPropertyOptional({ type: RefreshBatchView, nullable: true }) batch!: RefreshBatchView | null;
  @ApiPropertyOptional({ nullable: true, description: 'Why it rolled back, failed or waits' })
  reason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiPropertyOptional({ nullable: true }) finishedAt!: string | null;
}
