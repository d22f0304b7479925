import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class QueryEventsDto {
  @ApiPropertyOptional({ description: 'Exact type, or a prefix such as nephele.assembly.*' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9._-]+(\.\*)?$/, { message: 'type must be an event type or a prefix ending in .*' })
  type?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) source?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) subject?: string;

  @ApiPropertyOptional({ description: 'RFC 3339; events at or after' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an RFC 3339 timestamp' })
  since?: string;

  @ApiPropertyOptional({ description: 'RFC 3339; events before' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an RFC 3339 timestamp' })
  until?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional({ description: '1..1000, default 100' }) @IsOptional() @IsString() limit?: string;

  @ApiPropertyOptional({ description: 'stream only: resume after this id (as the Last-Event-ID header)' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  lastEventId?: string;
}
