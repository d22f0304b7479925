// Request and response schemas of the groups API for OpenAPI. The request bodies of create and of
// PUT config/launch are checked field by field in group.validation.ts (nested and polymorphic,
// with rules that need the config: known balancers, the maxEntities limit); these classes document
// their shape and are not run through the ValidationPipe.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TERMINATION_POLICIES } from '@nephele/scaling';
import { PolicyDto, PolicyView } from '../../policies/dto/policy.dto';

export class ServerReadyWebhookDto {
  @ApiProperty({ description: 'http(s) URL called when a server is ready' }) url!: string;
  @ApiPropertyOptional({ description: 'HMAC signing secret, 16–256 characters (never returned)' })
  secret?: string;
}

export class TerminationWebhookDto {
  @ApiProperty() url!: string;
  @ApiPropertyOptional({ description: 'seconds (0, 60]', default: 5 }) timeout?: number;
}

export class MetricSourceDto {
  @ApiProperty() metric!: string;
  @ApiProperty({ description: 'Prometheus instant-query URL' }) prometheusQueryUrl!: string;
  @ApiPropertyOptional({ description: 'seconds, 1–3600', default: 15 }) interval?: number;
}

export class GroupConfigDto {
  @ApiProperty({ maxLength: 255 }) name!: string;
  @ApiProperty({ minimum: 0 }) minEntities!: number;
  @ApiPropertyOptional({ minimum: 0, nullable: true, description: 'null or absent: the limit' })
  maxEntities?: number | null;
  @ApiPropertyOptional({ description: 'seconds', default: 0 }) cooldown?: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  metadata?: Record<string, string>;
  @ApiPropertyOptional({ type: ServerReadyWebhookDto, nullable: true })
  serverReadyWebhook?: ServerReadyWebhookDto | null;
  @ApiPropertyOptional({ type: [MetricSourceDto], maxItems: 16 }) metricSources?: MetricSourceDto[];
  @ApiPropertyOptional({ enum: TERMINATION_POLICIES, default: 'oldest' }) terminationPolicy?: string;
  @ApiPropertyOptional({ type: TerminationWebhookDto, nullable: true })
  terminationWebhook?: TerminationWebhookDto | null;
}

export class LoadBalancerRefDto {
  @ApiProperty({ description: 'A balancer of SCALER_LOAD_BALANCERS' }) id!: string;
  @ApiProperty({ minimum: 1, maximum: 65535 }) port!: number;
  @ApiPropertyOptional() backend?: string;
}

export class LaunchConfigDto {
  @ApiPropertyOptional({ enum: ['launch_server'] }) type?: string;
  @ApiProperty() image!: string;
  @ApiProperty() hardwareProfile!: string;
  @ApiPropertyOptional() pool?: string;
  @ApiPropertyOptional({ maxLength: 65536 }) userData?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  metadata?: Record<string, string>;
  @ApiPropertyOptional({ type: [LoadBalancerRefDto], maxItems: 16 }) loadBalancers?: LoadBalancerRefDto[];
  @ApiPropertyOptional({ description: 'seconds', default: 0 }) drainingTimeout?: number;
  @ApiPropertyOptional({ description: 'seconds', default: 3600 }) buildTimeout?: number;
}

/** `PUT …/launch`: a launch config and the refresh it starts (or `false` for none). */
export class PutLaunchConfigDto extends LaunchConfigDto {
  @ApiPropertyOptional({
    description: '{minHealthyPercentage, batchSize, warmup}, or false to skip the instance refresh',
    oneOf: [{ type: 'object' }, { type: 'boolean', enum: [false] }],
  })
  refresh?: unknown;
}

export class CreateGroupDto {
  @ApiProperty({ type: GroupConfigDto }) config!: GroupConfigDto;
  @ApiProperty({ type: LaunchConfigDto }) launchConfig!: LaunchConfigDto;
  @ApiPropertyOptional({ type: [PolicyDto] }) policies?: PolicyDto[];
  @ApiPropertyOptional({ description: 'Admins only: the project the group belongs to' }) project?: string;
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
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
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
