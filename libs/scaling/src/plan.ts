import { clampDesired } from './policy-execution';
import { victimOrder } from './termination';
import {
  Group,
  LaunchConfig,
  LoadBalancerRef,
  ObservedServer,
  Step,
  StepOutcome,
  StepResult,
} from './scaling.types';

// Note [Convergence]
// Otter's model: the scaler gathers the observed servers, `plan` compares them with the desired
// capacity and returns steps, the scaler executes them and `classify` folds the results into one
// verdict; then it gathers again. Planning is level-based: it never remembers what it asked for
// before, it only looks at what is there now, so a step lost in a crash is simply planned again.
//
// Counting. `healthy` servers are ACTIVE ones and BUILDING ones still within the build timeout:
// they are the capacity. ERROR servers and builds past the timeout are `broken`; DRAINING and
// DELETING servers are leaving. The target is the desired capacity clamped to [min, max].
//   - Fewer healthy than the target: broken servers are replaced (one replace-server step each,
//     at most as many as are missing), the rest is created; surplus broken servers are deleted.
//   - More healthy than the target: every broken server is deleted; the surplus is removed
//     newest BUILDING first (cancelling a build costs nothing), then oldest ACTIVE.
//   So after the steps the healthy count is exactly the target: never above max, never below min.
// Leaving balancers. An ACTIVE server that goes, and is a member of a balancer, is drained first
// when the launch config has a draining timeout: `drain` per membership, and a later pass (after
// the timeout, see `nextRecheck`) removes it from the balancers and deletes it. Broken servers
// and cancelled builds take no traffic worth draining: remove-from-lb, then delete; except an
// evicted server (an instance refresh retired it while it served), which is drained like a victim
// (its capacity is made up at once: it no longer counts).
// Surge. An instance refresh that launches before it retires raises the target by its batch
// (`group.surge`) until the batch's old servers are retired (Note [Instance refresh]).
// Joining balancers. A healthy ACTIVE server joins every balancer of the launch config it is not
// in yet, and leaves a balancer that is no longer in the launch config.

/** The identity of a balancer membership: the same balancer, backend and port. */
export function lbKey(lb: LoadBalancerRef): string {
  return `${lb.id}\u0000${lb.backend ?? ''}\u0000${lb.port}`;
}

/** Whether a BUILDING server has been building longer than the launch config allows. */
export function buildTimedOut(server: ObservedServer, launch: LaunchConfig, now: Date): boolean {
  return server.state === 'building' && now.getTime() - server.createdAt.getTime() >= launch.buildTimeoutMs;
}

function byCreated(a: ObservedServer, b: ObservedServer): number {
  const d = a.createdAt.getTime() - b.createdAt.getTime();
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The servers that count as capacity, and the broken ones, as the planner sees them. */
export interface CapacityView {
  readonly target: number;
  readonly active: readonly ObservedServer[];
  readonly building: readonly ObservedServer[];
  readonly broken: readonly { server: ObservedServer; reason: string }[];
  readonly draining: readonly ObservedServer[];
}

/** Sorts the observed servers into capacity, broken and leaving (see Note [Convergence]). */
export function capacityView(
  group: Group,
  launch: LaunchConfig,
  servers: readonly ObservedServer[],
  now: Date,
): CapacityView {
  const active: ObservedServer[] = [];
  const building: ObservedServer[] = [];
  const broken: { server: ObservedServer; reason: string }[] = [];
  const draining: ObservedServer[] = [];
  for (const s of [...servers].sort(byCreated)) {
    if (s.detached) continue; // not the group's any more (Note [Victim choice])
    switch (s.state) {
      case 'active':
        active.push(s);
        break;
      case 'building':
        if (buildTimedOut(s, launch, now)) {
          broken.push({ server: s, reason: `build exceeded the timeout of ${launch.buildTimeoutMs} ms` });
        } else building.push(s);
        break;
      case 'error':
        broken.push({ server: s, reason: 'server is in ERROR' });
        break;
      case 'draining':
        draining.push(s);
        break;
      case 'deleting':
        break;
    }
  }
  return {
    target: clampDesired(group, group.desired) + (group.surge ?? 0),
    active,
    building,
    broken,
    draining,
  };
}

function leaveAll(server: ObservedServer, reason: string): Step[] {
  return (server.lbMemberships ?? []).map((lb) => ({
    kind: 'remove-from-lb' as const,
    serverId: server.id,
    lb,
    reason,
  }));
}

/**
 * The steps that bring a group's servers to its desired capacity (see Note [Convergence]).
 * Pure: the same inputs give the same steps, in a stable order. A paused group gets none.
 */
export function plan(
  group: Group,
  launch: LaunchConfig,
  servers: readonly ObservedServer[],
  now: Date,
  opts: { readonly customVictimOrder?: readonly string[] } = {},
): Step[] {
  if (group.paused) return [];
  const view = capacityView(group, launch, servers, now);
  const steps: Step[] = [];
  const healthy = view.active.length + view.building.length;
  const going = new Set<string>();

  // Draining servers whose time is up leave the balancers and are deleted.
  for (const s of view.draining) {
    const since = (s.drainingSince ?? s.createdAt).getTime();
    if (now.getTime() - since >= launch.drainingTimeoutMs) {
      steps.push(...leaveAll(s, 'draining finished'));
      steps.push({ kind: 'delete-server', serverId: s.id, reason: 'draining finished' });
    }
  }

  // Evicted servers that serve in a balancer drain first (see the note).
  const broken = view.broken.filter(({ server: s }) => {
    const members = s.lbMemberships ?? [];
    if (!s.evicted || !members.length || launch.drainingTimeoutMs <= 0) return true;
    for (const lb of members) {
      steps.push({ kind: 'drain', serverId: s.id, lb, timeoutMs: launch.drainingTimeoutMs });
    }
    return false;
  });

  if (healthy < view.target) steps.push(...scaleUp(view.target, healthy, broken));
  else {
    for (const { server, reason } of broken) {
      steps.push(...leaveAll(server, reason));
      steps.push({ kind: 'delete-server', serverId: server.id, reason: `${reason}; not needed` });
    }
    steps.push(...scaleDown(group, launch, view, healthy - view.target, going, now, opts.customVictimOrder));
  }

  // A detached server takes no traffic: it leaves every balancer and stays.
  for (const s of servers) {
    if (s.detached && s.state !== 'deleting') steps.push(...leaveAll(s, 'detached from the group'));
  }
  steps.push(...balancerSteps(launch, view.active, going));
  return steps;
}

/** Fewer healthy than the target: broken servers are replaced, the rest is created. */
function scaleUp(
  target: number,
  healthy: number,
  broken: readonly { server: ObservedServer; reason: string }[],
): Step[] {
  const steps: Step[] = [];
  const missing = target - healthy;
  broken.forEach(({ server, reason }, i) => {
    steps.push(...leaveAll(server, reason));
    steps.push(
      i < missing
        ? { kind: 'replace-server', serverId: server.id, reason }
        : { kind: 'delete-server', serverId: server.id, reason: `${reason}; not needed` },
    );
  });
  for (let i = broken.length; i < missing; i++) {
    steps.push({
      kind: 'create-server',
      reason: `scale up: ${healthy} healthy of ${target} desired`,
    });
  }
  return steps;
}

/**
 * `surplus` healthy servers go: the newest builds first, then active servers in the group's
 * termination order, drained first when they serve; adds each to `going`.
 */
function scaleDown(
  group: Group,
  launch: LaunchConfig,
  view: CapacityView,
  surplus: number,
  going: Set<string>,
  now: Date,
  customVictimOrder: readonly string[] | undefined,
): Step[] {
  const steps: Step[] = [];
  // Newest builds first: cancelling a build loses nothing. Protected ones stay.
  for (const s of [...view.building].reverse()) {
    if (surplus === 0) break;
    if (s.protected) continue;
    surplus--;
    going.add(s.id);
    const reason = `scale down to ${view.target}: cancel the newest pending server`;
    steps.push(...leaveAll(s, reason));
    steps.push({ kind: 'delete-server', serverId: s.id, reason });
  }
  // Then active servers in the group's termination order (Note [Victim choice]).
  const policy = group.terminationPolicy ?? 'oldest';
  for (const s of victimOrder(view.active, policy, now, customVictimOrder)) {
    if (surplus === 0) break;
    surplus--;
    going.add(s.id);
    const reason =
      policy === 'oldest'
        ? `scale down to ${view.target}: remove the oldest active server`
        : `scale down to ${view.target}: remove an active server (terminationPolicy ${policy})`;
    const members = s.lbMemberships ?? [];
    if (members.length && launch.drainingTimeoutMs > 0) {
      for (const lb of members) {
        steps.push({ kind: 'drain', serverId: s.id, lb, timeoutMs: launch.drainingTimeoutMs });
      }
    } else {
      steps.push(...leaveAll(s, reason));
      steps.push({ kind: 'delete-server', serverId: s.id, reason });
    }
  }
  return steps;
}

/** Ready servers that stay join every balancer of the launch config and leave stale ones. */
function balancerSteps(
  launch: LaunchConfig,
  active: readonly ObservedServer[],
  going: ReadonlySet<string>,
): Step[] {
  const steps: Step[] = [];
  const wanted = new Map(launch.loadBalancers.map((lb) => [lbKey(lb), lb]));
  for (const s of active) {
    if (going.has(s.id)) continue;
    const have = new Map((s.lbMemberships ?? []).map((lb) => [lbKey(lb), lb]));
    for (const [k, lb] of have) {
      if (!wanted.has(k)) {
        steps.push({
          kind: 'remove-from-lb',
          serverId: s.id,
          lb,
          reason: 'balancer no longer in the launch config',
        });
      }
    }
    for (const [k, lb] of wanted) {
      if (!have.has(k)) steps.push({ kind: 'add-to-lb', serverId: s.id, lb });
    }
  }
  return steps;
}

/**
 * When the plan can change with no new event: the earliest end of a draining period or of a
 * build timeout after `now`. The scaler converges the group again then (requeue-after).
 */
export function nextRecheck(
  group: Group,
  launch: LaunchConfig,
  servers: readonly ObservedServer[],
  now: Date,
): Date | undefined {
  if (group.paused) return undefined;
  let best: number | undefined;
  const consider = (t: number) => {
    if (t > now.getTime() && (best === undefined || t < best)) best = t;
  };
  for (const s of servers) {
    if (s.state === 'building') consider(s.createdAt.getTime() + launch.buildTimeoutMs);
    if (s.state === 'draining') {
      consider((s.drainingSince ?? s.createdAt).getTime() + launch.drainingTimeoutMs);
    }
  }
  return best === undefined ? undefined : new Date(best);
}

const SEVERITY: Record<StepOutcome, number> = {
  success: 0,
  retry: 1,
  'limited-retry': 2,
  failure: 3,
};

/**
 * Folds the results of a pass into one verdict: the worst wins (failure > limited-retry > retry >
 * success). No results is success: there was nothing to do.
 */
export function classify(results: readonly Pick<StepResult, 'outcome'>[]): StepOutcome {
  let worst: StepOutcome = 'success';
  for (const r of results) if (SEVERITY[r.outcome] > SEVERITY[worst]) worst = r.outcome;
  return worst;
}
