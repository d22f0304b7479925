// Request and response schemas of the policies API. Policy bodies are checked in
// group.validation.ts / @nephele/scaling (their `args` depend on `type`): PolicyDto documents
// their shape and is not run through the ValidationPipe; CreateWebhookDto is.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, registerDecorator } from 'class-validator';
import { MAX_NAME_LENGTH, POLICY_TYPES } from '@nephele/scaling';

export class PolicyDto {
  @ApiProperty({ maxLength: 255 }) name!: string;
  @ApiPropertyOptional({ description: 'seconds', default: 0 }) cooldown?: number;
  @ApiProperty({ enum: POLICY_TYPES }) type!: string;
  @ApiPropertyOptional({ description: 'One of change, changePercent, desiredCapacity (not for target)' })
  change?: number;
  @ApiPropertyOptional() changePercent?: number;
  @ApiPropertyOptional() desiredCapacity?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'schedule: {cron, timezone?} or {at}; alarm: {alarmCriteria}; target: {metric, target, scaleOutCooldown, scaleInCooldown, disableScaleIn?}',
  })
  args?: Record<string, unknown>;
}

export class PolicyView {
  @ApiProperty() id!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: POLICY_TYPES }) type!: string;
  @ApiProperty({ description: 'seconds' }) cooldown!: number;
  @ApiPropertyOptional() change?: number;
  @ApiPropertyOptional() changePercent?: number;
  @ApiPropertyOptional() desiredCapacity?: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) args?: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) lastExecutedAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'schedule policies' })
  nextFiringAt?: string | null;
  @ApiPropertyOptional({ nullable: true, type: 'object', additionalProperties: true, description: 'target policies' })
  lastDecision?: unknown;
}

export class PolicyListView {
  @ApiProperty({ type: [PolicyView] }) items!: PolicyView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: null;
}

export class ExecutionView {
  @ApiProperty() groupId!: string;
  @ApiProperty() policyId!: string;
  @ApiProperty() desiredBefore!: number;
  @ApiProperty() desiredAfter!: number;
  @ApiProperty() changed!: boolean;
  @ApiProperty() reason!: string;
}

/** At most `entries` names, each mapped to a string of at most `length` characters. */
function IsStringMap(entries: number, length: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `must map at most ${entries} names to strings of at most ${length} characters` },
      validator: {
        validate: (v: unknown) =>
          typeof v === 'object' &&
          v !== null &&
          !Array.isArray(v) &&
          Object.keys(v).length <= entries &&
          Object.values(v).every((x) => typeof x === 'string' && x.length <= length),
      },
    });
}

/** `POST …/policies/{pid}/webhooks`: a capability webhook (validated by the ValidationPipe). */
export class CreateWebhookDto {
  @ApiProperty({ maxLength: MAX_NAME_LENGTH })
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, maxProperties: 64 })
  @IsOptional()
  @IsStringMap(64, 1024)
  metadata?: Record<string, string>;
}

export class WebhookView {
  @ApiProperty() id!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty() policyId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
  @ApiProperty() createdAt!: string;
}

export class WebhookCreatedView extends WebhookView {
  @ApiProperty({ description: 'The capability URL, shown this once' }) capabilityUrl!: string;
}

export class WebhookListView {
  @ApiProperty({ type: [WebhookView] }) items!: WebhookView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: null;
}
