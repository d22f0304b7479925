// Request and response schemas of the policies API. A policy body is a DTO checked once by the
// ValidationPipe (Note [Request DTOs]); each field's rule is the domain's (validatePolicy and the
// args checks of @nephele/scaling), so the API and the planner agree on what a policy is. `args`
// is typed by `type`. Only "a schedule's `at` is in the future" needs the clock: the service checks it.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import {
  alarmArgsProblems,
  LABEL_MATCH_OPS,
  MAX_NAME_LENGTH,
  MAX_SECONDS,
  POLICY_TYPES,
  problemAt,
  scheduleArgsProblems,
  targetArgsProblems,
  validatePolicy,
} from '@nephele/scaling';
import { Check, stringMapProblem } from '@nephele/service-kit';

type Obj = Record<string, unknown>;
const id = (n: string) => n;

/** The domain's problem with `field` of the policy `o` (its cooldown in seconds, the domain's in ms). */
function policyProblem(o: Obj, field: string): string | undefined {
  const { cooldown: _c, ...rest } = o;
  return problemAt(validatePolicy(rest), field);
}

/** A policy field checked by the domain. */
const PolicyRule = (field: string) => Check((_v, o) => policyProblem(o, field));

/** The first problem of `errors` at `field` or below it, the deeper ones prefixed with their path. */
function problemUnder(errors: { field: string; message: string }[], field: string): string | undefined {
  const e = errors.find(
    (x) => x.field === field || x.field.startsWith(`${field}.`) || x.field.startsWith(`${field}[`),
  );
  if (!e) return undefined;
  return e.field === field ? e.message : `${e.field.slice(field.length).replace(/^\./, '')}: ${e.message}`;
}

/** `args` of a schedule policy: `cron` (with an optional IANA `timezone`) or `at` (RFC 3339). */
export class ScheduleArgsDto {
  @ApiPropertyOptional({ description: 'five fields, e.g. `0 9 * * 1-5`' })
  @Check((_v, o) => problemAt(scheduleArgsProblems(o, id), 'args.cron'))
  cron?: string;

  @ApiPropertyOptional({ description: 'IANA time zone of cron, e.g. Europe/Paris (default UTC)' })
  @Check((_v, o) => problemAt(scheduleArgsProblems(o, id), 'args.timezone'))
  timezone?: string;

  @ApiPropertyOptional({ description: 'one firing at this RFC 3339 time (in the future)' })
  @Check((_v, o) => problemAt(scheduleArgsProblems(o, id), 'args.at'))
  at?: string;
}

export class LabelMatcherDto {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: LABEL_MATCH_OPS }) op!: string;
  @ApiProperty() value!: string;
}

export class AlarmCriteriaDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  labels?: Record<string, string>;
  @ApiPropertyOptional({ type: [LabelMatcherDto] }) matchers?: LabelMatcherDto[];
}

/** `args` of an alarm policy: the alerts that fire it. */
export class AlarmArgsDto {
  @ApiProperty({ type: AlarmCriteriaDto, description: 'labels and/or matchers, at least one' })
  @Check((_v, o) => problemUnder(alarmArgsProblems(o, id), 'args.alarmCriteria'))
  alarmCriteria!: AlarmCriteriaDto;
}

const TargetRule = (k: string) => Check((_v, o) => problemAt(targetArgsProblems(o, id), `args.${k}`));

/** `args` of a target policy (Note [Target tracking]). */
export class TargetArgsDto {
  @ApiProperty({ description: 'a metric name (letters, digits, _:.-)' })
  @TargetRule('metric')
  metric!: string;
  @ApiProperty({ description: 'the value per server to hold, > 0' }) @TargetRule('target') target!: number;
  @ApiProperty({ description: 'seconds' }) @TargetRule('scaleOutCooldown') scaleOutCooldown!: number;
  @ApiProperty({ description: 'seconds' }) @TargetRule('scaleInCooldown') scaleInCooldown!: number;
  @ApiPropertyOptional() @TargetRule('disableScaleIn') disableScaleIn?: boolean;
  @ApiPropertyOptional({ description: '0 to 1 (exclusive)' }) @TargetRule('tolerance') tolerance?: number;
  @ApiPropertyOptional({ description: 'seconds' })
  @TargetRule('stabilizationWindow')
  stabilizationWindow?: number;
}

/** `args` of a webhook policy: none. */
export class NoArgsDto {}

const ARGS = new Map<unknown, new () => object>([
  ['schedule', ScheduleArgsDto],
  ['alarm', AlarmArgsDto],
  ['target', TargetArgsDto],
]);

/** `POST /v1/groups/{id}/policies`, `PUT …/{pid}` and each of a new group's `policies`. */
export class PolicyDto {
  @ApiProperty({ maxLength: MAX_NAME_LENGTH }) @PolicyRule('name') name!: string;

  @ApiPropertyOptional({
    description: 'seconds (a fraction allowed)',
    default: 0,
    minimum: 0,
    maximum: MAX_SECONDS,
  })
  @IsOptional()
  @Check((v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_SECONDS
      ? undefined
      : `must be a number of seconds from 0 to ${MAX_SECONDS}`,
  )
  cooldown?: number;

  @ApiProperty({ enum: POLICY_TYPES }) @PolicyRule('type') type!: string;

  @ApiPropertyOptional({ description: 'One of change, changePercent, desiredCapacity (none for target)' })
  @PolicyRule('change')
  change?: number;

  @ApiPropertyOptional() @PolicyRule('changePercent') changePercent?: number;
  @ApiPropertyOptional() @PolicyRule('desiredCapacity') desiredCapacity?: number;

  @ApiPropertyOptional({
    oneOf: [
      { $ref: '#/components/schemas/ScheduleArgsDto' },
      { $ref: '#/components/schemas/AlarmArgsDto' },
      { $ref: '#/components/schemas/TargetArgsDto' },
    ],
    description:
      'by type: schedule {cron, timezone?} or {at}; alarm {alarmCriteria}; target {metric, target, …}; webhook none',
  })
  @Check((v, o) => {
    const errors = validatePolicy(o);
    // Missing or not an object: the domain's first complaint about args, whatever its depth.
    return typeof v === 'object' && v !== null ? problemAt(errors, 'args') : problemUnder(errors, 'args');
  })
  @ValidateNested()
  @Type((t) => ARGS.get((t?.object as Obj | undefined)?.type) ?? NoArgsDto)
  args?: ScheduleArgsDto | AlarmArgsDto | TargetArgsDto;
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
  @ApiPropertyOptional({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'target policies',
  })
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

/** `POST …/policies/{pid}/webhooks`: a capability webhook (validated by the ValidationPipe). */
export class CreateWebhookDto {
  @ApiProperty({ maxLength: MAX_NAME_LENGTH })
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, maxProperties: 64 })
  @IsOptional()
  @Check((v) => stringMapProblem(v, 64, 1024))
  metadata?: Record<string, string>;
}

export class WebhookView {
  @ApiProperty() id!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty() policyId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<
    string,
    string
  >;
  @ApiProperty() createdAt!: string;
}

export class WebhookCreatedView extends WebhookView {
  @ApiProperty({ description: 'The capability URL, shown this once' }) capabilityUrl!: string;
}

export class WebhookListView {
  @ApiProperty({ type: [WebhookView] }) items!: WebhookView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: null;
}
