// Request and response schemas of the groups API. The bodies of create and of PUT config/launch
// are DTOs checked once by the ValidationPipe (Note [Request DTOs]): their shape, ranges and the
// rules between fields. Two rules need the scaler's configuration and are the service's
// (group.inputs.ts): maxEntities within SCALER_MAX_ENTITIES, balancers among SCALER_LOAD_BALANCERS.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  MAX_NAME_LENGTH,
  MAX_SECONDS,
  problemAt,
  TERMINATION_POLICIES,
  validateGroupBounds,
} from '@nephele/scaling';
import { Check, Nested, stringMapProblem } from '@nephele/service-kit';
import { PolicyDto, PolicyView } from '../../policies/dto/policy.dto';
import { StartRefreshDto } from './refresh.dto';

export const MAX_POLICIES = 100;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/;
const BACKEND_NAME = /^[A-Za-z0-9_.:-]+$/;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Whether `v` holds a C0 control character or DEL, other than those in `allowed`. */
function hasControlCharacter(v: string, allowed: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !allowed.includes(v[i]!)) return true;
  }
  return false;
}

/** A non-empty string of at most `max` characters; one line unless `multiline` (NUL never). */
function textProblem(v: unknown, max = 200, multiline = false): string | undefined {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max)
    return `must be a non-empty string of at most ${max} characters`;
  if (hasControlCharacter(v, multiline ? '\t\n\r' : '')) return 'must not contain control characters';
  return undefined;
}

/** Checks a webhook target URL's shape (the address is checked at delivery, see ssrf.util.ts). */
export function urlProblem(raw: unknown): string | undefined {
  const text = textProblem(raw, 2048);
  if (text) return text;
  let u: URL;
  try {
    u = new URL(raw as string);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username || u.password) return 'must not carry credentials';
  return undefined;
}

const Text = (max?: number, multiline?: boolean) => Check((v) => textProblem(v, max, multiline));
const Url = () => Check((v) => urlProblem(v));
const StringMap = () => Check((v) => stringMapProblem(v, 64, 1024));
const Seconds = (min: number) =>
  Check((v) =>
    isInt(v) && v >= min && v <= MAX_SECONDS
      ? undefined
      : `must be an integer number of seconds from ${min} to ${MAX_SECONDS}`,
  );
const NestedArray = (cls: () => new () => object, max: number, what: string): PropertyDecorator => {
  const message = `must be an array of at most ${max} ${what}`;
  const decorators = [
    IsArray({ message }),
    ArrayMaxSize(max, { message }),
    ValidateNested({ each: true }),
    Type(cls),
  ];
  return (target, key) => decorators.forEach((d) => d(target, key));
};

export class ServerReadyWebhookDto {
  @ApiProperty({ description: 'http(s) URL called when a server is ready' }) @Url() url!: string;

  @ApiPropertyOptional({ description: 'HMAC signing secret, 16–256 characters (never returned)' })
  @IsOptional()
  @Check((v) =>
    typeof v === 'string' && v.length >= 16 && v.length <= 256
      ? undefined
      : 'must be a string of 16 to 256 characters',
  )
  secret?: string;

  // What GET returns beside the url: accepted so that a config read can be written back as it is
  // (the secret then stays); it changes nothing.
  @ApiPropertyOptional({ readOnly: true, description: 'read-only: whether a secret is set (ignored on input)' })
  @IsOptional()
  @IsBoolean({ message: 'must be a boolean (read-only; ignored)' })
  hasSecret?: boolean;
}

export class TerminationWebhookDto {
  @ApiProperty() @Url() url!: string;

  @ApiPropertyOptional({ description: 'seconds (0, 60]', default: 5 })
  @IsOptional()
  @Check((v) =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 60
      ? undefined
      : 'must be a number of seconds from 0 (exclusive) to 60',
  )
  timeout?: number;
}

export class MetricSourceDto {
  @ApiProperty()
  @Check((v) =>
    typeof v === 'string' && METRIC_NAME.test(v)
      ? undefined
      : 'must be a metric name (letters, digits, _:.-)',
  )
  metric!: string;

  @ApiProperty({ description: 'Prometheus instant-query URL' }) @Url() prometheusQueryUrl!: string;

  @ApiPropertyOptional({ description: 'seconds, 1–3600', default: 15 })
  @IsOptional()
  @Check((v) =>
    isInt(v) && v >= 1 && v <= 3600 ? undefined : 'must be an integer number of seconds from 1 to 3600',
  )
  interval?: number;
}

/** Bounds as the domain checks them; the configured limit is the service's (group.inputs.ts). */
const bound = (field: 'minEntities' | 'maxEntities') =>
  Check((_v, o) =>
    problemAt(
      validateGroupBounds(
        { minEntities: o.minEntities, maxEntities: o.maxEntities ?? Number.MAX_SAFE_INTEGER },
        { maxEntitiesLimit: Number.MAX_SAFE_INTEGER },
      ),
      field,
    ),
  );

export class GroupConfigDto {
  @ApiProperty({ maxLength: MAX_NAME_LENGTH }) @Text(MAX_NAME_LENGTH) name!: string;

  @ApiProperty({ minimum: 0 }) @bound('minEntities') minEntities!: number;

  @ApiPropertyOptional({ minimum: 0, nullable: true, description: 'null or absent: the limit' })
  @IsOptional()
  @bound('maxEntities')
  maxEntities?: number | null;

  @ApiPropertyOptional({ description: 'seconds', default: 0 }) @IsOptional() @Seconds(0) cooldown?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({ type: ServerReadyWebhookDto, nullable: true, description: 'null removes it' })
  @IsOptional()
  @Nested(() => ServerReadyWebhookDto, 'must be {url, secret?}')
  serverReadyWebhook?: ServerReadyWebhookDto | null;

  @ApiPropertyOptional({ type: [MetricSourceDto], maxItems: 16 })
  @IsOptional()
  @Check((v) =>
    Array.isArray(v) && new Set(v.map((s: { metric?: unknown }) => s?.metric)).size !== v.length
      ? 'each metric may have one source'
      : undefined,
  )
  @NestedArray(() => MetricSourceDto, 16, '{metric, prometheusQueryUrl, interval?}')
  metricSources?: MetricSourceDto[];

  @ApiPropertyOptional({ enum: TERMINATION_POLICIES, default: 'oldest' })
  @IsOptional()
  @IsIn(TERMINATION_POLICIES, { message: `must be one of ${TERMINATION_POLICIES.join(', ')}` })
  terminationPolicy?: string;

  @ApiPropertyOptional({ type: TerminationWebhookDto, nullable: true })
  @ValidateIf((o: GroupConfigDto) => o.terminationWebhook != null || o.terminationPolicy === 'custom')
  @Check((v, o) =>
    v == null && o.terminationPolicy === 'custom'
      ? 'terminationPolicy custom needs a terminationWebhook'
      : undefined,
  )
  @Nested(() => TerminationWebhookDto, 'must be {url, timeout?}')
  terminationWebhook?: TerminationWebhookDto | null;
}

export class LoadBalancerRefDto {
  @ApiProperty({ description: 'A balancer of SCALER_LOAD_BALANCERS' })
  @IsString({ message: 'must be the id of a configured load balancer' })
  id!: string;

  @ApiProperty({ minimum: 1, maximum: 65535 })
  @Check((v) => (isInt(v) && v >= 1 && v <= 65535 ? undefined : 'must be a port number from 1 to 65535'))
  port!: number;

  @ApiPropertyOptional()
  @IsOptional()
  @Check((v) =>
    typeof v === 'string' && BACKEND_NAME.test(v)
      ? undefined
      : 'must be a backend name (letters, digits, _.:-)',
  )
  backend?: string;
}

export class LaunchConfigDto {
  @ApiPropertyOptional({ enum: ['launch_server'] })
  @IsOptional()
  @IsIn(['launch_server'], { message: 'type must be launch_server' })
  type?: 'launch_server';

  @ApiProperty() @Text() image!: string;
  @ApiProperty() @Text() hardwareProfile!: string;
  @ApiPropertyOptional() @IsOptional() @Text() pool?: string;
  @ApiPropertyOptional({ maxLength: 65536 }) @IsOptional() @Text(65536, true) userData?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @StringMap()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({ type: [LoadBalancerRefDto], maxItems: 16 })
  @IsOptional()
  @NestedArray(() => LoadBalancerRefDto, 16, 'load balancers')
  loadBalancers?: LoadBalancerRefDto[];

  @ApiPropertyOptional({ description: 'seconds', default: 0 })
  @IsOptional()
  @Seconds(0)
  drainingTimeout?: number;
  @ApiPropertyOptional({ description: 'seconds', default: 3600 })
  @IsOptional()
  @Seconds(1)
  buildTimeout?: number;
}

/** `PUT …/launch`: a launch config and the refresh it starts (or `false` for none). */
export class PutLaunchConfigDto extends LaunchConfigDto {
  @ApiPropertyOptional({
    description: 'the instance refresh this change starts, or false to skip it',
    oneOf: [{ $ref: '#/components/schemas/StartRefreshDto' }, { type: 'boolean', enum: [false] }],
  })
  @ValidateIf((o: PutLaunchConfigDto) => o.refresh !== undefined && o.refresh !== false)
  @Nested(
    () => StartRefreshDto,
    'must be {minHealthyPercentage?, batchSize?, warmup?, launchBeforeRetire?} or false',
  )
  refresh?: StartRefreshDto | false;
}

export class CreateGroupDto {
  @ApiProperty({ type: GroupConfigDto })
  @Nested(() => GroupConfigDto, 'must be an object')
  config!: GroupConfigDto;

  @ApiProperty({ type: LaunchConfigDto })
  @Nested(() => LaunchConfigDto, 'must be an object')
  launchConfig!: LaunchConfigDto;

  @ApiPropertyOptional({ type: [PolicyDto], maxItems: MAX_POLICIES })
  @IsOptional()
  @NestedArray(() => PolicyDto, MAX_POLICIES, 'policies')
  policies?: PolicyDto[];

  @ApiPropertyOptional({ description: 'Admins only: the project the group belongs to' })
  @IsOptional()
  @IsString({ message: 'must be a project id' })
  @MinLength(1, { message: 'must be a project id' })
  project?: string;
}

export class ServerReadyWebhookView {
  @ApiProperty() url!: string;
  @ApiProperty() hasSecret!: boolean;
}

export class GroupConfigView {
  @ApiProperty() name!: string;
  @ApiProperty() minEntities!: number;
  @ApiProperty() maxEntities!: number;
  @ApiProperty({ description: 'seconds' }) cooldown!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<
    string,
    string
  >;
  @ApiPropertyOptional({ type: [MetricSourceDto] }) metricSources?: MetricSourceDto[];
  @ApiProperty({ enum: TERMINATION_POLICIES }) terminationPolicy!: string;
  @ApiPropertyOptional({ type: TerminationWebhookDto }) terminationWebhook?: TerminationWebhookDto;
  @ApiPropertyOptional({ type: ServerReadyWebhookView }) serverReadyWebhook?: ServerReadyWebhookView;
}

export class LaunchConfigView extends LaunchConfigDto {}

export class GroupSummaryStateView {
  @ApiProperty() desiredCapacity!: number;
  @ApiProperty() paused!: boolean;
  @ApiProperty({ description: 'ACTIVE | ERROR | DELETING' }) status!: string;
}

export class GroupView {
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) project!: string | null;
  @ApiProperty({ type: GroupConfigView }) config!: GroupConfigView;
  @ApiProperty({ type: LaunchConfigView }) launchConfig!: LaunchConfigView;
  @ApiPropertyOptional({ type: [PolicyView] }) policies?: PolicyView[];
  @ApiProperty({ type: GroupSummaryStateView }) state!: GroupSummaryStateView;
  @ApiProperty() version!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class GroupListView {
  @ApiProperty({ type: [GroupView] }) items!: GroupView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ServerStateView {
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) instanceId!: string | null;
  @ApiProperty({ description: 'building | active | error | deleting | leaving' }) state!: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) addresses!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) loadBalancers!: unknown[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() protected!: boolean;
  @ApiPropertyOptional() detached?: boolean;
  @ApiProperty() launchConfigVersion!: number;
  @ApiProperty({ description: 'in-service | PENDING:WAIT | TERMINATING:WAIT' }) lifecycleState!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) hookWait?: unknown;
  @ApiPropertyOptional() reason?: string;
}

export class GroupStateView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() paused!: boolean;
  @ApiProperty() status!: string;
  @ApiProperty({ type: [String] }) errors!: string[];
  @ApiProperty() desiredCapacity!: number;
  @ApiProperty() activeCapacity!: number;
  @ApiProperty() pendingCapacity!: number;
  @ApiProperty({ type: [ServerStateView] }) servers!: ServerStateView[];
}

export class ServerProtectionView {
  @ApiProperty() id!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty() protected!: boolean;
}

export class DeliveryView {
  @ApiProperty() id!: string;
  @ApiProperty() serverId!: string;
  @ApiProperty() url!: string;
  @ApiProperty() status!: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) attempts!: unknown[];
  @ApiProperty() createdAt!: string;
}

export class DeliveryListView {
  @ApiProperty({ type: [DeliveryView] }) items!: DeliveryView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: null;
}
