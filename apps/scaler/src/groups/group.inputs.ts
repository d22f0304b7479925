import { FieldError } from '@nephele/contracts';
import { isAtArgs, TerminationPolicy } from '@nephele/scaling';
import { ProblemException } from '@nephele/service-kit';
import { PolicyDto } from '../policies/dto/policy.dto';
import { GroupConfigInput, LaunchConfigView, PolicyInput } from '../state/group.types';
import { GroupConfigDto, LaunchConfigDto } from './dto/group.dto';

// The validated bodies (Note [Request DTOs]) as the service stores them, defaults filled in, and
// the rules that need the scaler's configuration or clock, which a DTO cannot know.

/** A DTO's value as plain JSON (no class instances, no absent fields). */
const plain = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

export function groupConfigInput(
  d: GroupConfigDto,
  limit: number,
  prefix: string,
  errors: FieldError[],
): GroupConfigInput {
  // Otter: maxEntities may be left out or null, meaning the largest group allowed.
  const maxEntities = d.maxEntities ?? limit;
  if (maxEntities > limit) {
    errors.push({ field: `${prefix}maxEntities`, message: `maxEntities must be at most ${limit}` });
  }
  const tw = d.terminationWebhook;
  return {
    name: d.name,
    minEntities: d.minEntities,
    maxEntities,
    cooldown: d.cooldown ?? 0,
    metadata: plain(d.metadata) ?? {},
    serverReadyWebhook:
      d.serverReadyWebhook === null
        ? null
        : d.serverReadyWebhook && {
            url: d.serverReadyWebhook.url,
            ...(d.serverReadyWebhook.secret !== undefined ? { secret: d.serverReadyWebhook.secret } : {}),
          },
    metricSources: (d.metricSources ?? []).map((s) => ({
      metric: s.metric,
      prometheusQueryUrl: s.prometheusQueryUrl,
      interval: s.interval ?? 15,
    })),
    terminationPolicy: (d.terminationPolicy ?? 'oldest') as TerminationPolicy,
    terminationWebhook: tw ? { url: tw.url, timeout: tw.timeout ?? 5 } : null,
  };
}

export function launchConfigInput(
  d: LaunchConfigDto,
  knownLbs: ReadonlySet<string>,
  prefix: string,
  errors: FieldError[],
): LaunchConfigView {
  (d.loadBalancers ?? []).forEach((lb, i) => {
    if (!knownLbs.has(lb.id)) {
      errors.push({
        field: `${prefix}loadBalancers[${i}].id`,
        message: `unknown load balancer${knownLbs.size ? `; configured: ${[...knownLbs].join(', ')}` : ' (none is configured)'}`,
      });
    }
  });
  return {
    type: 'launch_server',
    image: d.image,
    hardwareProfile: d.hardwareProfile,
    ...(d.pool !== undefined ? { pool: d.pool } : {}),
    ...(d.userData !== undefined ? { userData: d.userData } : {}),
    ...(d.metadata !== undefined ? { metadata: plain(d.metadata) } : {}),
    loadBalancers: (d.loadBalancers ?? []).map((lb) => ({
      id: lb.id,
      port: lb.port,
      ...(lb.backend !== undefined ? { backend: lb.backend } : {}),
    })),
    drainingTimeout: d.drainingTimeout ?? 0,
    buildTimeout: d.buildTimeout ?? 3600,
  };
}

export function policyInput(d: PolicyDto, now: Date, prefix: string, errors: FieldError[]): PolicyInput {
  if (d.type === 'schedule' && isAtArgs(d.args) && new Date(d.args.at).getTime() <= now.getTime()) {
    errors.push({ field: `${prefix}args.at`, message: 'at must be in the future' });
  }
  return {
    name: d.name,
    cooldown: d.cooldown ?? 0,
    type: d.type as PolicyInput['type'],
    ...(d.change !== undefined ? { change: d.change } : {}),
    ...(d.changePercent !== undefined ? { changePercent: d.changePercent } : {}),
    ...(d.desiredCapacity !== undefined ? { desiredCapacity: d.desiredCapacity } : {}),
    args: d.type === 'webhook' ? undefined : (plain(d.args) as PolicyInput['args']),
  };
}

export function failIfErrors(errors: FieldError[]): void {
  if (errors.length) throw ProblemException.badRequest('validation failed', errors);
}
