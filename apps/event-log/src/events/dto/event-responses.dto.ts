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

/** What POST /v1/events accepted. */
export class LoggedEventsDto {
  @ApiProperty({ description: 'events stored (a repeated (source, id) is accepted once)' })
  accepted!: number;
  @ApiProperty({ type: [String], description: 'their ids, in order' }) ids!: string[];
}
