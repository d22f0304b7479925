// The Alertmanager webhook payload (version 4: receiver, status, alerts[{status, labels,
// annotations, startsAt, endsAt, generatorURL, fingerprint}], groupLabels, commonLabels,
// commonAnnotations, externalURL, groupKey, truncatedAlerts). Fields the scaler does not use are
// not checked beyond their type, and fields newer Alertmanagers add are dropped, not refused
// (Note [Request DTOs]).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { isRfc3339 } from '@nephele/util';
import { AcceptsUnknownFields, Check } from '@nephele/service-kit';

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');
const StringMap = (message = 'must map names to strings') =>
  Check((v) => (isStringMap(v) ? undefined : message));
const STATUSES = ['firing', 'resolved'];

@AcceptsUnknownFields()
export class AlertDto {
  @ApiProperty({ enum: STATUSES })
  @IsIn(STATUSES, { message: 'must be firing or resolved' })
  status!: 'firing' | 'resolved';

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  @StringMap('must map label names to strings')
  labels!: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  annotations?: Record<string, string>;

  @ApiProperty({ description: 'RFC 3339' })
  @Check((v) => (isRfc3339(v) ? undefined : 'must be an RFC 3339 time'))
  startsAt!: string;

  @ApiPropertyOptional() @IsOptional() @IsString() endsAt?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() generatorURL?: string;

  @ApiPropertyOptional({ maxLength: 128 })
  @IsOptional()
  @IsString({ message: 'must be a string of at most 128 characters' })
  @MaxLength(128, { message: 'must be a string of at most 128 characters' })
  fingerprint?: string;
}

@AcceptsUnknownFields()
export class AlertmanagerDto {
  @ApiProperty({ example: '4' })
  @IsIn(['4'], { message: 'only version "4" of the webhook payload is understood' })
  version!: string;

  @ApiProperty({ enum: STATUSES })
  @IsIn(STATUSES, { message: 'must be firing or resolved' })
  status!: 'firing' | 'resolved';

  @ApiPropertyOptional() @IsOptional() @IsString() receiver?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() groupKey?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() externalURL?: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() truncatedAlerts?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  groupLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  commonLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  commonAnnotations?: Record<string, string>;

  @ApiProperty({ type: [AlertDto], maxItems: 1000 })
  @IsArray({ message: 'must be an array of at most 1000 alerts' })
  @ArrayMaxSize(1000, { message: 'must be an array of at most 1000 alerts' })
  @ValidateNested({ each: true })
  @Type(() => AlertDto)
  alerts!: AlertDto[];
}

export class AlarmExecutionView {
  @ApiProperty() policyId!: string;
  @ApiPropertyOptional() groupId?: string;
  @ApiProperty() executed!: boolean;
  @ApiProperty() reason!: string;
}

export class AlertmanagerResultView {
  @ApiProperty() received!: number;
  @ApiProperty() firing!: number;
  @ApiProperty() duplicates!: number;
  @ApiProperty({ type: [AlarmExecutionView] }) executions!: AlarmExecutionView[];
}
