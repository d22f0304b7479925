import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A stored CloudEvent (structured mode, CloudEvents 1.0). */
export class CloudEventDto {
  @ApiProperty({ example: '1.0' }) specversion!: string;
  @ApiProperty({ example: '0b6c1f3e-…' }) id!: string;
  @ApiProperty({ example: 'nephele/cloud-policy-engine' }) source!: string;
  @ApiProperty({ example: 'com.example.order.placed' }) type!: string;
  @ApiPropertyOptional() subject?: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
  @ApiPropertyOptional({ example: 'application/json' }) datacontenttype?: string;
  @ApiPropertyOptional({ description: 'the project the event belongs to, when it does' }) project?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) data?: Record<string, unknown>;
}

/**
 * A CloudEvent to log (`POST /v1/events`, CloudEvents 1.0 JSON): extension attributes (1–20
 * lower-case letters or digits) are allowed; `data` is checked against its type's contract when
 * the type is one of Nephele's.
 */
export class NewCloudEventDto {
  @ApiProperty({ enum: ['1.0'] }) specversion!: string;
  @ApiProperty({ maxLength: 256, description: 'unique per source: a repeated (source, id) is logged once' })
  id!: string;
  @ApiProperty({ maxLength: 1024 }) source!: string;
  @ApiProperty({
    maxLength: 200,
    pattern: '^[A-Za-z0-9._-]+$',
    description: 'nephele.* types: admin tokens only',
  })
  type!: string;
  @ApiPropertyOptional({ maxLength: 1024 }) subject?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'default: when it is received' }) time?: string;
  @ApiPropertyOptional({ maxLength: 200 }) datacontenttype?: string;
  @ApiPropertyOptional({ description: 'admins only; a project token logs into its own project' })
  project?: string;
  @ApiPropertyOptional({ description: 'W3C trace context' }) traceparent?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) data?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'binary data, base64 (instead of data)' }) data_base64?: string;
}

/** What POST /v1/events accepted. */
export class LoggedEventsDto {
  @ApiProperty({ description: 'events stored (a repeated (source, id) is accepted once)' })
  accepted!: number;
  @ApiProperty({ type: [String], description: 'their ids, in order' }) ids!: string[];
}
