import { Condition, DeployableStatus } from '@nephele/contracts';
import { TerminalFailure } from './recovery-budget';

// Note [Conditions]
// Every deployable, assembly and service that is not running says why, Kubernetes-style:
// `Ready` (True when running; otherwise False with a CamelCase reason and a message for people)
// and, for a terminal state, `Failed` (True, until the user acts). lastTransitionTime is when the
// condition's status or reason last changed, which only the DPE can tell: it remembers them here.
// The reasons are a small vocabulary the CLI and the console can rely on:
//   deployable: Running, Starting, Recovering, Degraded, Failed, Stopped
//   assembly:   Online, Launching, LaunchFailed, ImageUnknown, ProfileUnknown, PoolUnavailable,
//               NoCapacity, Booting, HeartbeatMissed, InstanceFailed, Replacing, RecoveryExhausted
//   service:    Running, Pending, WaitingForAssembly, Starting, BackOff, Stopped, Failed,
//               BinaryNotFound, AgentNotInstalled, NotConfigured, StartTimeout, StartCheckFailed,
//               ProcessExited, MonitorFailed, RecoveryExhausted

/** What a condition says, before its transition time is known. */
export interface ConditionInput {
  ready: boolean;
  reason: string;
  message: string;
}

/** Remembers when each condition last changed. */
export class ConditionClock {
  private readonly seen = new Map<string, { status: string; reason: string; at: number }>();

  stamp(
    key: string,
    type: string,
    status: 'True' | 'False',
    reason: string,
    message: string,
    now: number,
  ): Condition {
    const k = `${key}#${type}`;
    const prev = this.seen.get(k);
    const at = prev && prev.status === status && prev.reason === reason ? prev.at : now;
    this.seen.set(k, { status, reason, at });
    return {
      type,
      status,
      reason,
      message: message.slice(0, 2000),
      lastTransitionTime: new Date(at).toISOString(),
    };
  }

  /** `Ready` (and `Failed` when terminal) for one object. */
  conditions(key: string, c: ConditionInput, failure: TerminalFailure | undefined, now: number): Condition[] {
    const out = [this.stamp(key, 'Ready', c.ready ? 'True' : 'False', c.reason, c.message, now)];
    if (failure) out.push(this.stamp(key, 'Failed', 'True', failure.reason, failure.message, failure.at));
    return out;
  }
}

const STATUS_REASON: Record<DeployableStatus, string> = {
  starting: 'Starting',
  running: 'Running',
  degraded: 'Degraded',
  recovering: 'Recovering',
  failed: 'Failed',
  stopped: 'Stopped',
};

export function deployableCondition(
  status: DeployableStatus,
  message: string,
  failure?: TerminalFailure,
): ConditionInput {
  if (status === 'failed' && failure)
    return { ready: false, reason: failure.reason, message: failure.message };
  return { ready: status === 'running', reason: STATUS_REASON[status], message };
}

/** What the DPE knows about one assembly, for its condition. */
export interface AssemblyFacts {
  name: string;
  state: 'online' | 'failed' | 'pending';
  instanceId?: string;
  instanceState?: string;
  heard: boolean;
  failedReason?: string;
  launch?: { reason: string; message: string; attempts: number; retryAt?: number };
  replacingAt?: number;
}

export function assemblyCondition(a: AssemblyFacts, now: number): ConditionInput {
  if (a.state === 'online') return { ready: true, reason: 'Online', message: 'heartbeating' };
  if (a.state === 'failed')
    return {
      ready: false,
      reason: /heartbeat/.test(a.failedReason ?? '') ? 'HeartbeatMissed' : 'InstanceFailed',
      message: a.failedReason ?? 'failed',
    };
  if (a.launch && !a.instanceId) {
    const wait =
      a.launch.retryAt && a.launch.retryAt > now
        ? `; next attempt in ${Math.ceil((a.launch.retryAt - now) / 1000)} s`
        : '';
    return {
      ready: false,
      reason: a.launch.reason,
      message: `launch attempt ${a.launch.attempts} failed: ${a.launch.message}${wait}`,
    };
  }
  if (!a.instanceId) return { ready: false, reason: 'Launching', message: 'waiting for its instance' };
  if (a.instanceState && a.instanceState !== 'running')
    return { ready: false, reason: 'Launching', message: `instance ${a.instanceId} is ${a.instanceState}` };
  if (!a.heard)
    return {
      ready: false,
      reason: 'Booting',
      message: `instance ${a.instanceId} is running; waiting for its agent's first heartbeat`,
    };
  return { ready: false, reason: 'HeartbeatMissed', message: 'its agent is silent' };
}

/** What the DPE knows about one service, for its condition. */
export interface ServiceFacts {
  id: string;
  state?: 'running' | 'failed' | 'stopped';
  assemblyOnline: boolean;
  enabled: boolean;
  lastFailure?: { reason: string; message: string };
  backoffUntil?: number;
  waitingFor?: string;
}

export function serviceCondition(s: ServiceFacts, now: number): ConditionInput {
  if (s.state === 'running') return { ready: true, reason: 'Running', message: 'running; monitor passes' };
  if (!s.enabled) return { ready: false, reason: 'Stopped', message: 'disabled in the configuration' };
  if (s.backoffUntil && s.backoffUntil > now) {
    const last = s.lastFailure ? `${s.lastFailure.message}; ` : '';
    return {
      ready: false,
      reason: 'BackOff',
      message: `${last}next attempt in ${Math.ceil((s.backoffUntil - now) / 1000)} s`,
    };
  }
  if (s.state === 'failed' || (s.lastFailure && s.state !== undefined))
    return {
      ready: false,
      reason: s.lastFailure?.reason ?? 'Failed',
      message: s.lastFailure?.message ?? 'failed',
    };
  if (!s.assemblyOnline)
    return { ready: false, reason: 'WaitingForAssembly', message: 'its assembly is not online yet' };
  if (s.waitingFor) return { ready: false, reason: 'Pending', message: s.waitingFor };
  if (s.lastFailure) return { ready: false, reason: s.lastFailure.reason, message: s.lastFailure.message };
  return { ready: false, reason: 'Starting', message: 'being started' };
}
