import { PolicyAction, PolicyStep, RecoveryRung } from './action.types';
import {
  ClusterObservedState,
  ClusterSpec,
  ColocationConstraint,
  FailureRecord,
  LocationConstraint,
  OrderConstraint,
  ResourceObservation,
  ResourceSpec,
} from './cluster.types';
import {
  DeployableFailureHistory,
  DeployableObservedState,
  DeployablePlan,
  DeployableServiceSpec,
  DeployableSpec,
  EscalationPolicy,
} from './deployable.types';
import { plan, topoSort } from './plan';
import { expandGroupConstraints } from './groups';
import { INFINITY } from './score.util';

// Note [Recovery ladder]
// ~~~~~~~~~~~~~~~~~~~~~~
// pacemaker-cloud's ladder, on top of the Pacemaker-compatible planner (plan.ts):
//
// 1. restart in place — a failed service whose failures on its assembly within
//    escalation.periodMs are still below escalation.failures. In Pacemaker terms: the fail
//    count is below migration-threshold, so the resource recovers where it is.
// 2. move — at escalation.failures the service's fail count reaches migration-threshold
//    (= failures, failure-timeout = period), Pacemaker bans the assembly, and the service moves
//    to the best other allowed assembly.
// 3. replace the assembly — when the service has no other allowed assembly that is online and
//    where it has not escalated too (it is pinned, or all are gone), or when the assembly itself
//    failed. The replaced assembly is planned as online and empty (its services start again
//    after the replacement step; failures before its `since` are forgotten).
// 4. mark the deployable failed — when an assembly that needs replacing has failed
//    escalation.failures times within its period. A replacement caused by a service's escalation
//    counts as one more assembly failure (the DPE records it when it carries the action out).
//
// Failures count in a sliding window (now − period, now], which is how pacemaker-cloud reads
// escalation_period; for the planner that is the fail count, and the newest one is the
// last-failure time.

/** Default resource-stickiness of services: above `homePreference`, so moved services stay put. */
export const DEFAULT_SERVICE_STICKINESS = 200;
/** Default location score of a service for its home assembly. */
export const DEFAULT_HOME_PREFERENCE = 100;

function within(at: number, now: number, periodMs: number): boolean {
  return at <= now && at > now - periodMs;
}

function fmtPeriod(ms: number): string {
  if (ms >= 7_200_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * Plans a deployable: Pacemaker-compatible placement of its services on its assemblies, with
 * pacemaker-cloud's recovery ladder on top (see Note [Recovery ladder]). Pure: same inputs,
 * same plan.
 *
 * @param spec the deployable (assemblies, services, constraints)
 * @param observed assemblies' and services' current states
 * @param history recorded service and assembly failures
 * @param now epoch ms
 */
export function planDeployable(
  spec: DeployableSpec,
  observed: DeployableObservedState,
  history: DeployableFailureHistory,
  now: number,
): DeployablePlan {
  const stateOf = (a: string): 'online' | 'failed' | 'pending' => observed.assemblies[a]?.state ?? 'pending';
  const sinceOf = (a: string): number => observed.assemblies[a]?.since ?? -Infinity;
  const assemblyEscalation = new Map<string, EscalationPolicy | undefined>(spec.assemblies.map((a) => [a.name, a.escalation]));
  const allowedOf = (s: DeployableServiceSpec): readonly string[] => s.allowedAssemblies ?? [s.assembly];

  /** Recent failures of a service on an assembly (sliding window, current instance only). */
  const serviceFailures = (s: DeployableServiceSpec, assembly: string): number[] => {
    const esc = s.escalation;
    return (history.services?.[s.id] ?? [])
      .filter((f) => f.assembly === assembly && f.at >= sinceOf(assembly) && (esc ? within(f.at, now, esc.periodMs) : f.at <= now))
      .map((f) => f.at);
  };
  const assemblyFailures = (a: string): number => {
    const esc = assemblyEscalation.get(a);
    if (!esc) return 0;
    return (history.assemblies?.[a] ?? []).filter((t) => within(t, now, esc.periodMs)).length;
  };
  const observedOn = (s: DeployableServiceSpec): { assembly: string; failed: boolean } | undefined => {
    const o = observed.services[s.id];
    if (!o || o.state === 'stopped' || o.assembly === undefined) return undefined;
    return { assembly: o.assembly, failed: o.state === 'failed' };
  };

  // Rung 3 candidates: failed assemblies, and assemblies of escalated services with nowhere to go.
  const replace = new Map<string, { reason: string; recordsAssemblyFailure: boolean }>();
  for (const a of spec.assemblies) {
    if (stateOf(a.name) === 'failed') replace.set(a.name, { reason: `assembly ${a.name} failed`, recordsAssemblyFailure: false });
  }
  const escalated = new Map<string, { assembly: string; count: number }>();
  for (const s of spec.services) {
    const on = observedOn(s);
    if (!on || !s.escalation || s.enabled === false || stateOf(on.assembly) !== 'online') continue;
    const count = serviceFailures(s, on.assembly).length;
    if (count < s.escalation.failures) continue;
    escalated.set(s.id, { assembly: on.assembly, count });
    const others = allowedOf(s).filter(
      (b) => b !== on.assembly && stateOf(b) === 'online' && !replace.has(b) && serviceFailures(s, b).length < s.escalation!.failures,
    );
    if (others.length === 0 && !replace.has(on.assembly)) {
      const why = allowedOf(s).length <= 1 ? 'it is pinned to it' : 'no other allowed assembly is available';
      replace.set(on.assembly, {
        reason: `${s.id} failed ${count} times within ${fmtPeriod(s.escalation.periodMs)} (escalation_failures ${s.escalation.failures}) on ${on.assembly} and ${why}`,
        recordsAssemblyFailure: true,
      });
    }
  }

  // Rung 4: an assembly that needs replacing but has used up its escalation.
  const markFailed: PolicyAction[] = [];
  for (const [a, r] of replace) {
    const esc = assemblyEscalation.get(a);
    if (!esc) continue;
    const count = assemblyFailures(a) + (r.recordsAssemblyFailure ? 1 : 0);
    if (count >= esc.failures) {
      const id = `mark-failed:${a}`;
      markFailed.push({
        kind: 'mark-failed',
        id,
        node: a,
        rung: 'mark-failed',
        explanation: `deployable ${spec.name} failed: assembly ${a} failed ${count} times within ${fmtPeriod(esc.periodMs)} (escalation_failures ${esc.failures}); last: ${r.reason}`,
        steps: [{ id: `mark-failed@${a}`, op: 'mark-failed', node: a, after: [], action: id }],
      });
    }
  }
  if (markFailed.length > 0) {
    const placement: Record<string, string | null> = {};
    const explanations: Record<string, string> = {};
    for (const s of spec.services) {
      const on = observedOn(s);
      placement[s.id] = on && !on.failed && stateOf(on.assembly) === 'online' ? on.assembly : null;
      explanations[s.id] = `no recovery: the deployable is failed`;
    }
    return { status: 'failed', placement, actions: markFailed, steps: markFailed.flatMap((a) => a.steps), explanations };
  }

  // The Pacemaker view: assemblies being replaced are planned as online and empty.
  const cluster = toClusterSpec(spec);
  const online: Record<string, boolean> = {};
  for (const a of spec.assemblies) online[a.name] = stateOf(a.name) === 'online' || replace.has(a.name);
  const resources: Record<string, ResourceObservation | undefined> = {};
  const failures: FailureRecord[] = [];
  for (const s of spec.services) {
    const on = observedOn(s);
    if (on && stateOf(on.assembly) === 'online' && !replace.has(on.assembly)) {
      resources[s.id] = on.failed ? { node: on.assembly, failed: true } : { node: on.assembly };
    }
    if (!s.escalation) continue;
    for (const a of spec.assemblies) {
      if (replace.has(a.name)) continue;
      const times = serviceFailures(s, a.name);
      if (times.length > 0) failures.push({ resource: s.id, node: a.name, count: times.length, lastFailureAt: Math.max(...times) });
    }
  }
  const state: ClusterObservedState = { online, resources };
  const result = plan(cluster, state, failures, now);

  // Ladder annotations.
  const explanations = { ...result.explanations };
  const actions: PolicyAction[] = [];
  const replaceSteps = new Map<string, PolicyStep>();
  for (const [a, r] of replace) {
    const id = `replace-assembly:${a}`;
    const esc = assemblyEscalation.get(a);
    const count = assemblyFailures(a) + (r.recordsAssemblyFailure ? 1 : 0);
    const budget = esc ? ` (assembly failure ${count} of ${esc.failures} within ${fmtPeriod(esc.periodMs)})` : '';
    const step: PolicyStep = { id: `replace-assembly@${a}`, op: 'replace-assembly', node: a, after: [], action: id };
    replaceSteps.set(a, step);
    const explanation = `replace assembly ${a}: ${r.reason}${budget}`;
    explanations[`assembly:${a}`] = explanation;
    actions.push({ kind: 'replace-assembly', id, node: a, rung: 'replace-assembly', recordsAssemblyFailure: r.recordsAssemblyFailure, explanation, steps: [step] });
  }
  const byId = new Map(spec.services.map((s) => [s.id, s]));
  for (const action of result.actions) {
    if (action.kind === 'replace-assembly' || action.kind === 'mark-failed') continue;
    const s = byId.get(action.resource)!;
    const on = observedOn(s);
    let rung: RecoveryRung | undefined;
    let why = '';
    if (on?.failed && action.kind === 'restart') {
      rung = 'restart-in-place';
      const count = serviceFailures(s, on.assembly).length;
      why = s.escalation
        ? `failure ${count} of ${s.escalation.failures} within ${fmtPeriod(s.escalation.periodMs)}: restart in place`
        : `failed (no escalation policy): restart in place`;
    } else if (on && action.kind === 'move' && escalated.has(s.id)) {
      rung = 'move';
      const e = escalated.get(s.id)!;
      why = `failed ${e.count} times within ${fmtPeriod(s.escalation!.periodMs)} (escalation_failures ${s.escalation!.failures}) on ${e.assembly}: move`;
    } else if (on && replace.has(on.assembly) && (action.kind === 'start' || action.kind === 'move')) {
      why = `its assembly ${on.assembly} is replaced`;
    }
    for (const step of action.steps) {
      const r = step.op === 'start' ? replaceSteps.get(step.node) : undefined;
      if (r && !step.after.includes(r.id)) step.after.push(r.id);
    }
    const annotated: PolicyAction = why ? { ...action, explanation: `${why}; ${action.explanation}` } : { ...action };
    if (rung) annotated.rung = rung;
    actions.push(annotated);
  }

  // A replacement stops what ran there: stop the `then` side of its orders first (stop in reverse).
  const stopSteps = new Map(actions.flatMap((a) => a.steps).filter((st) => st.op === 'stop').map((st) => [st.resource!, st]));
  for (const o of expandGroupConstraints(cluster).orders ?? []) {
    const first = byId.get(o.first);
    const on = first ? observedOn(first) : undefined;
    const r = on ? replaceSteps.get(on.assembly) : undefined;
    const thenStop = stopSteps.get(o.then);
    if (r && thenStop && !r.after.includes(thenStop.id)) r.after.push(thenStop.id);
  }

  const steps = topoSort(actions.flatMap((a) => a.steps));
  const pos = new Map(steps.map((s, i) => [s.id, i]));
  const first = (a: PolicyAction): number => Math.min(...a.steps.map((s) => pos.get(s.id)!));
  actions.sort((x, y) => first(x) - first(y));
  const recovering = actions.some((a) => a.rung !== undefined);
  return { status: recovering ? 'recovering' : 'running', placement: result.placement, actions, steps, explanations };
}

/** The Pacemaker model of a deployable (without state). Exposed for explanations and tests. */
export function toClusterSpec(spec: DeployableSpec): ClusterSpec {
  const stickiness = spec.defaults?.stickiness ?? DEFAULT_SERVICE_STICKINESS;
  const home = spec.defaults?.homePreference ?? DEFAULT_HOME_PREFERENCE;
  const resources: ResourceSpec[] = spec.services.map((s) => {
    const r: ResourceSpec = {
      id: s.id,
      priority: s.priority ?? 0,
      stickiness: s.stickiness ?? stickiness,
      // No escalation policy: restart in place for ever (migration-threshold 0 = never ban).
      migrationThreshold: s.escalation ? s.escalation.failures : 0,
    };
    if (s.escalation) r.failureTimeoutMs = s.escalation.periodMs;
    if (s.enabled === false) r.targetRole = 'Stopped';
    return r;
  });
  const locations: LocationConstraint[] = [];
  const colocations: ColocationConstraint[] = [];
  const orders: OrderConstraint[] = [];
  for (const s of spec.services) {
    const allowed = new Set(s.allowedAssemblies ?? [s.assembly]);
    if (allowed.has(s.assembly) && home !== 0) locations.push({ id: `home:${s.id}`, resource: s.id, node: s.assembly, score: home });
    for (const a of spec.assemblies) {
      if (!allowed.has(a.name)) locations.push({ id: `not-allowed:${s.id}@${a.name}`, resource: s.id, node: a.name, score: -INFINITY });
    }
  }
  (spec.constraints ?? []).forEach((c, i) => {
    switch (c.kind) {
      case 'order':
        orders.push({ id: c.id ?? `order-${i + 1}`, first: c.first, then: c.then });
        break;
      case 'colocation':
        colocations.push({ id: c.id ?? `colocation-${i + 1}`, resource: c.service, withResource: c.with, score: c.score });
        break;
      case 'location':
        locations.push({ id: c.id ?? `location-${i + 1}`, resource: c.service, node: c.assembly, score: c.score });
        break;
    }
  });
  const cluster: ClusterSpec = { nodes: spec.assemblies.map((a) => ({ name: a.name })), resources, locations, colocations, orders };
  // Service groups are Pacemaker groups (service ids contain a `/`, group names cannot clash).
  if (spec.groups && spec.groups.length > 0) cluster.groups = spec.groups.map((g) => ({ id: `group:${g.name}`, members: g.services }));
  return cluster;
}
