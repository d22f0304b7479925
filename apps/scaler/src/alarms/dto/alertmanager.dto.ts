// Schemas of the Alertmanager receiver for OpenAPI; the payload (version 4) is checked by
// parseAlertmanagerBody, which names the bad field.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AlertDto {
  @ApiProperty({ enum: ['firing', 'resolved'] }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  annotations?: Record<string, string>;
  @ApiPropertyOptional() startsAt?: string;
  @ApiPropertyOptional() fingerprint?: string;
}

export class AlertmanagerDto {
  @ApiPropertyOptional({ example: '4' }) version?: string;
  @ApiProperty({ type: [AlertDto] }) alerts!: AlertDto[];
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
