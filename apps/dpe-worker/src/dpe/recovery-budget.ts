import { BackoffDoc, DeployableDocument, EscalationDoc, ServiceFailureCause } from '@nephele/contracts';
import { DeployablePlan, PolicyAction, PolicyStep } from '@nephele/policy';

// Note [Recovery budgets]
// pacemaker-cloud's ladder (restart in place → move → replace the assembly → mark failed) is
// planned by @nephele/policy; this module bounds it in time and in count, so that failure is
// terminal and explained instead of a loop:
//  - restarts per service: its `escalation` (default `recovery.escalation`, 3 within 10 min); past
//    it the planner moves the service or replaces its assembly;
//  - replacements per assembly: its `escalation` (default `recovery.assemblyEscalation`, 3 within
//    30 min); past it the planner marks the deployable failed;
//  - moves per service within its escalation period (`recovery.moves`, default 3);
//  - launch attempts per assembly in a row (`recovery.launchAttempts`, default 5), and none at all
//    when the gateway says the image, hardware profile or pool does not exist;
//  - hard service errors (the binary, OCF agent or init script is not installed, or the service is
//    misconfigured) are not retried: the same image cannot start it again.
// Between two attempts at the same rung for the same service or assembly there is an exponential
// back-off (`backoff`, per service or per deployable; default 1 s doubling up to 60 s), counted
// over the attempts within the escalation period. A deferred action is left out of this pass and
// the reconcile comes back when its back-off ends. Once a budget is spent the deployable is
// `failed` and stays so (saved with the DPE state) until the user acts: start, update or retry.

export const DEFAULT_SERVICE_ESCALATION: EscalationDoc = { failures: 3, periodMs: 10 * 60_000 };
export const DEFAULT_ASSEMBLY_ESCALATION: EscalationDoc = { failures: 3, periodMs: 30 * 60_000 };
export const DEFAULT_BACKOFF: BackoffDoc = { initialMs: 1000, maxMs: 60_000 };
export const DEFAULT_MOVES = 3;
export const DEFAULT_LAUNCH_ATTEMPTS = 5;

/** A terminal failure: what failed, a CamelCase reason and a message for people. */
export interface TerminalFailure {
  entity: 'deployable' | 'assembly' | 'service';
  /** Assembly name or service id (`<assembly>/<service>`); the deployable's name otherwise. */
  name: string;
  reason: string;
  message: string;
  at: number;
}

export function backoffDelay(b: BackoffDoc, attempts: number): number {
  if (attempts <= 0) return 0;
  return Math.min(b.maxMs, b.initialMs * 2 ** (attempts - 1));
}

/** A launch failure the gateway will repeat whatever we do: the configuration is wrong. */
export function launchFailureReason(gatewayReason: string): { reason: string; terminal: boolean } {
  if (/^image .* not found/i.test(gatewayReason)) return { reason: 'ImageUnknown', terminal: true };
  if (/^hardware profile .* not found/i.test(gatewayReason))
    return { reason: 'ProfileUnknown', terminal: true };
  if (/^pool .* (not found|is disabled)/i.test(gatewayReason))
    return { reason: 'PoolUnavailable', terminal: true };
  if (/no provider account can take it|quota|capacity/i.test(gatewayReason))
    return { reason: 'NoCapacity', terminal: false };
  return { reason: 'LaunchFailed', terminal: false };
}

/** The condition reason of a failed service, and whether retrying can help. */
export function serviceFailureReason(
  cause: ServiceFailureCause | undefined,
  serviceClass: string | undefined,
): { reason: string; hard: boolean } {
  switch (cause) {
    case 'not-installed':
      return { reason: serviceClass === 'process' ? 'BinaryNotFound' : 'AgentNotInstalled', hard: true };
    case 'not-configured':
      return { reason: 'NotConfigured', hard: true };
    case 'start-timeout':
      return { reason: 'StartTimeout', hard: false };
    case 'check-failed':
      return { reason: 'StartCheckFailed', hard: false };
    case 'exited':
      return { reason: 'ProcessExited', hard: false };
    case 'monitor-failed':
      return { reason: 'MonitorFailed', hard: false };
    case 'error':
    case undefined:
      return { reason: 'Failed', hard: false };
  }
}

/** A plain message for a hard service failure: what to install or fix. */
export function hardFailureMessage(
  serviceId: string,
  svc: { class: string; provider?: string; type?: string; command?: string[] } | undefined,
  lastError: string,
): string {
  if (!svc) return `${serviceId}: ${lastError}`;
  if (/not-configured|OCF_ERR_CONFIGURED|OCF_ERR_ARGS|OCF_ERR_PERM|EACCES/.test(lastError))
    return `${serviceId} is misconfigured (${lastError}); fix its parameters and update the deployable`;
  switch (svc.class) {
    case 'ocf':
      return `${serviceId}: the OCF resource agent ${svc.provider}:${svc.type} is not installed on the assembly (install resource-agents in its image): ${lastError}`;
    case 'lsb':
      return `${serviceId}: the init script ${svc.type} is not installed on the assembly: ${lastError}`;
    case 'systemd':
      return `${serviceId}: the systemd unit ${svc.type} is not installed on the assembly: ${lastError}`;
    default:
      return `${serviceId}: the command ${svc.command?.[0] ?? ''} is not installed on the assembly (add it to the image): ${lastError}`;
  }
}

/**
 * The recovery budgets of one deployable (see Note [Recovery budgets]): which recovery actions
 * may run now, which must wait for their back-off, and when a budget is spent.
 */
export class RecoveryBudget {
  /** Attempt times per rung key (`service:<id>` for restarts and moves, `assembly:<name>`). */
  private readonly attempts = new Map<string, number[]>();
  private readonly moves = new Map<string, number[]>();

  constructor(private doc: DeployableDocument) {}

  setDocument(doc: DeployableDocument): void {
    this.doc = doc;
  }

  /** A new configuration or a retry: every budget starts again. */
  reset(): void {
    this.attempts.clear();
    this.moves.clear();
  }

  private serviceDoc(id: string) {
    const [a, s] = id.split('/');
    return this.doc.assemblies.find((x) => x.name === a)?.services.find((x) => x.name === s);
  }

  backoffOf(serviceId?: string): BackoffDoc {
    const own = serviceId ? this.serviceDoc(serviceId)?.backoff : undefined;
    return own ?? this.doc.recovery?.backoff ?? DEFAULT_BACKOFF;
  }

  private periodOf(key: string): number {
    if (key.startsWith('assembly:')) {
      const a = this.doc.assemblies.find((x) => x.name === key.slice('assembly:'.length));
      return (a?.escalation ?? this.doc.recovery?.assemblyEscalation ?? DEFAULT_ASSEMBLY_ESCALATION).periodMs;
    }
    const s = this.serviceDoc(key.slice('service:'.length));
    return (s?.escalation ?? this.doc.recovery?.escalation ?? DEFAULT_SERVICE_ESCALATION).periodMs;
  }

  private recent(map: Map<string, number[]>, key: string, now: number): number[] {
    const horizon = now - this.periodOf(key);
    const list = (map.get(key) ?? []).filter((t) => t > horizon);
    map.set(key, list);
    return list;
  }

  /** When the next attempt for this key may run (now or later). */
  nextAttemptAt(key: string, now: number): number {
    const list = this.recent(this.attempts, key, now);
    if (!list.length) return now;
    const serviceId = key.startsWith('service:') ? key.slice('service:'.length) : undefined;
    return list[list.length - 1]! + backoffDelay(this.backoffOf(serviceId), list.length);
  }

  private keyOf(action: PolicyAction): string | undefined {
    if (!action.rung || action.rung === 'mark-failed') return undefined;
    if (action.kind === 'replace-assembly') return `assembly:${action.node}`;
    return 'resource' in action ? `service:${action.resource}` : undefined;
  }

  /**
   * Filters a plan: recovery actions still in back-off are left out (with the steps that depend on
   * them), the others are recorded as attempts. Returns the steps to run, when to come back, and a
   * terminal failure when a move would exceed its budget.
   */
  gate(
    plan: DeployablePlan,
    now: number,
  ): {
    steps: PolicyStep[];
    actions: PolicyAction[];
    wakeAt?: number;
    waiting: Map<string, number>;
    failure?: TerminalFailure;
  } {
    const deferred = new Set<string>();
    const waiting = new Map<string, number>();
    let wakeAt: number | undefined;
    const run: PolicyAction[] = [];
    for (const action of plan.actions) {
      const key = this.keyOf(action);
      if (!key) {
        run.push(action);
        continue;
      }
      const at = this.nextAttemptAt(key, now);
      if (at > now) {
        for (const s of action.steps) deferred.add(s.id);
        waiting.set(key, at);
        wakeAt = Math.min(wakeAt ?? Infinity, at);
        continue;
      }
      if (action.kind === 'move') {
        const moves = this.recent(this.moves, key, now);
        const budget = this.doc.recovery?.moves ?? DEFAULT_MOVES;
        if (moves.length >= budget) {
          return {
            steps: [],
            actions: [],
            waiting,
            failure: {
              entity: 'service',
              name: action.resource,
              reason: 'RecoveryExhausted',
              message: `${action.resource} was moved ${moves.length} times within ${Math.round(this.periodOf(key) / 1000)} s (budget ${budget}) and failed again: ${action.explanation}`,
              at: now,
            },
          };
        }
        moves.push(now);
      }
      this.recent(this.attempts, key, now).push(now);
      run.push(action);
    }
    // Steps after a deferred step wait too (transitively).
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of plan.steps) {
        if (!deferred.has(s.id) && s.after.some((x) => deferred.has(x))) {
          deferred.add(s.id);
          grew = true;
        }
      }
    }
    return {
      steps: plan.steps.filter((s) => !deferred.has(s.id)),
      actions: run.filter((a) => a.steps.some((s) => !deferred.has(s.id))),
      wakeAt,
      waiting,
    };
  }

  /** Launch attempts in a row an assembly may use before it is failed. */
  launchAttempts(): number {
    return this.doc.recovery?.launchAttempts ?? DEFAULT_LAUNCH_ATTEMPTS;
  }
}
