import {
  Group,
  LifecycleHook,
  LaunchConfig,
  Policy,
  PolicyArgs,
  PolicyType,
  TargetState,
  TerminationPolicy,
} from '@nephele/scaling';

/** A launch config as the API shows it (`launch_server`; durations in seconds). */
export interface LaunchConfigView {
  type: 'launch_server';
  image: string;
  hardwareProfile: string;
  pool?: string;
  userData?: string;
  metadata?: Record<string, string>;
  loadBalancers: { id: string; port: number; backend?: string }[];
  /** Seconds a leaving server drains in its balancers before it is deleted (0: no draining). */
  drainingTimeout: number;
  /** Seconds after which a server still building is replaced. */
  buildTimeout: number;
}

/** The customer webhook called when a server of the group is ready (the secret is write-only). */
export interface ReadyWebhookInput {
  url: string;
  secret?: string;
}

/**
 * Where a group's metric comes from besides `nephele.metric.observed` events: a Prometheus
 * instant-query URL (`…/api/v1/query?query=…`) polled every `interval` seconds; the first sample
 * of the answer (a scalar, or the first element of a vector) is the metric's value.
 */
export interface MetricSource {
  metric: string;
  prometheusQueryUrl: string;
  /** Seconds between polls. */
  interval: number;
}

/** The customer endpoint that picks scale-in victims (`terminationPolicy: custom`). */
export interface TerminationWebhook {
  url: string;
  /** Seconds to wait for its answer before the default order (oldest first) applies. */
  timeout: number;
}

export interface GroupConfigInput {
  name: string;
  minEntities: number;
  maxEntities: number;
  /** Seconds. */
  cooldown: number;
  metadata: Record<string, string>;
  serverReadyWebhook?: ReadyWebhookInput | null;
  metricSources: MetricSource[];
  terminationPolicy: TerminationPolicy;
  terminationWebhook: TerminationWebhook | null;
}

export interface PolicyInput {
  name: string;
  /** Seconds. */
  cooldown: number;
  type: PolicyType;
  change?: number;
  changePercent?: number;
  desiredCapacity?: number;
  args?: PolicyArgs;
}

export interface GroupRow {
  id: string;
  project: string | null;
  name: string;
  min_entities: number;
  max_entities: number;
  cooldown_ms: string | number;
  metadata: Record<string, string>;
  ready_webhook: { url: string; secret?: unknown } | null;
  launch_config: LaunchConfigView;
  desired: number;
  paused: boolean;
  deleting: boolean;
  last_scaled_at: Date | null;
  status: 'ACTIVE' | 'ERROR';
  errors: string[];
  launch_failures: number;
  last_launch_error: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  metric_sources: MetricSource[];
  launch_version: number;
  termination_policy: TerminationPolicy;
  termination_webhook: TerminationWebhook | null;
  lifecycle_hooks: LifecycleHook[];
}

export interface PolicyRow {
  id: string;
  group_id: string;
  name: string;
  type: PolicyType;
  cooldown_ms: string | number;
  change: number | null;
  change_percent: number | null;
  desired_capacity: number | null;
  args: PolicyArgs | null;
  last_executed_at: Date | null;
  last_fired_at: Date | null;
  next_firing_at: Date | null;
  version: number;
  created_at: Date;
  /** Target policies: what the last evaluations recommended (Note [Target tracking]). */
  target_state?: (TargetState & { lastDecision?: { at: string; reason: string } }) | null;
}

export interface WebhookRow {
  id: string;
  group_id: string;
  policy_id: string;
  name: string;
  metadata: Record<string, string>;
  created_at: Date;
}

/** The group columns that planning an execution reads. */
export type PlannerGroupRow = Pick<
  GroupRow,
  | 'id'
  | 'project'
  | 'min_entities'
  | 'max_entities'
  | 'cooldown_ms'
  | 'desired'
  | 'paused'
  | 'deleting'
  | 'last_scaled_at'
  | 'termination_policy'
>;

export function toPlannerGroup(g: PlannerGroupRow): Group {
  return {
    id: g.id,
    minEntities: g.min_entities,
    maxEntities: g.max_entities,
    cooldownMs: Number(g.cooldown_ms),
    desired: g.desired,
    paused: g.paused,
    lastScaledAt: g.last_scaled_at ?? undefined,
    terminationPolicy: g.termination_policy,
  };
}

export function toPlannerLaunch(l: LaunchConfigView): LaunchConfig {
  return {
    image: l.image,
    hardwareProfile: l.hardwareProfile,
    pool: l.pool,
    userData: l.userData,
    metadata: l.metadata,
    loadBalancers: l.loadBalancers.map((lb) => ({ id: lb.id, port: lb.port, backend: lb.backend })),
    drainingTimeoutMs: l.drainingTimeout * 1000,
    buildTimeoutMs: l.buildTimeout * 1000,
  };
}

export function toPlannerPolicy(p: PolicyRow): Policy {
  return {
    id: p.id,
    name: p.name,
    type: p.type,
    cooldownMs: Number(p.cooldown_ms),
    change: p.change ?? undefined,
    changePercent: p.change_percent ?? undefined,
    desiredCapacity: p.desired_capacity ?? undefined,
    args: p.args ?? undefined,
    lastExecutedAt: p.last_executed_at ?? undefined,
  };
}

export function groupConfigView(g: GroupRow) {
  return {
    name: g.name,
    minEntities: g.min_entities,
    maxEntities: g.max_entities,
    cooldown: Number(g.cooldown_ms) / 1000,
    metadata: g.metadata,
    ...(g.metric_sources?.length ? { metricSources: g.metric_sources } : {}),
    terminationPolicy: g.termination_policy,
    ...(g.termination_webhook ? { terminationWebhook: g.termination_webhook } : {}),
    ...(g.ready_webhook
      ? { serverReadyWebhook: { url: g.ready_webhook.url, hasSecret: g.ready_webhook.secret !== undefined } }
      : {}),
  };
}

export function policyView(p: PolicyRow) {
  return {
    id: p.id,
    groupId: p.group_id,
    name: p.name,
    type: p.type,
    cooldown: Number(p.cooldown_ms) / 1000,
    ...(p.change !== null ? { change: p.change } : {}),
    ...(p.change_percent !== null ? { changePercent: p.change_percent } : {}),
    ...(p.desired_capacity !== null ? { desiredCapacity: p.desired_capacity } : {}),
    ...(p.args ? { args: p.args } : {}),
    lastExecutedAt: p.last_executed_at?.toISOString() ?? null,
    ...(p.type === 'schedule' ? { nextFiringAt: p.next_firing_at?.toISOString() ?? null } : {}),
    ...(p.type === 'target' ? { lastDecision: p.target_state?.lastDecision ?? null } : {}),
  };
}

export function webhookView(w: WebhookRow) {
  return {
    id: w.id,
    groupId: w.group_id,
    policyId: w.policy_id,
    name: w.name,
    metadata: w.metadata,
    createdAt: w.created_at.toISOString(),
  };
}
