import { Bus, EdgeConnection } from '@nephele/bus';
import { DeployableDocument, DeployableStatus, ServiceDoc } from '@nephele/contracts';
import { DeployableObservedState, DeployablePlan, DeployableSpec } from '@nephele/policy';
import { AgentAuth } from './agent-auth';
import { AssemblyRt, FailureHistory, SavedState, serviceIdOf } from './dpe.types';
import { RecoveryBudget, TerminalFailure } from './recovery-budget';

// Note [Observer outage]
// Agents' heartbeats reach the DPE through the broker, over its own edge connection. While the DPE
// cannot hear (its edge connection down or its receivers not yet attached again, or the broker
// unreachable: its bus connection down) the silence says nothing about the agents: they are cut
// off the same way and reconnect with backoff (the edge client's default cap, 10 s) once the broker
// is back. So heartbeat deadlines are not judged while the DPE cannot hear, and afterwards every
// agent not heard since has that reconnect time plus the usual deadline before it counts as
// missing. The bus matters: RabbitMQ's `stop_app` drops AMQP 0-9-1 connections at once, but the
// AMQP 1.0 ones only seconds later, and nothing flows on them meanwhile. Without this, a broker
// restart of a few seconds made the DPE replace every healthy assembly.
const AGENT_RECONNECT_GRACE_MS = 10_000;

type ServiceObserved = { state: 'running' | 'failed' | 'stopped'; assembly: string };

/**
 * Everything one DPE knows about its deployable: the configuration, each assembly's instance and
 * agent reports, the failure history and the status. The intake writes it; the reconciler, the
 * step executor and the reporter read it. `observed()` is its view in the policy engine's terms.
 */
export class DeployableState {
  doc?: DeployableDocument;
  spec?: DeployableSpec;
  /**
   * Services a newer configuration removed, by id, with their last definition: an agent still
   * running one is told to stop it with that definition (see Note [Removed services] in
   * dpe.reconciler.ts). Held in memory: after a DPE restart an unknown one is only reported.
   */
  readonly retired = new Map<string, ServiceDoc>();
  version = 0;
  project?: string;
  readonly assemblies = new Map<string, AssemblyRt>();
  history: FailureHistory = { services: {}, assemblies: {} };
  status: DeployableStatus = 'starting';
  statusReason = 'starting';
  everRunning = false;
  failedReason?: string;
  failure?: TerminalFailure;
  lastPlan?: DeployablePlan;
  auth?: AgentAuth;
  budget?: RecoveryBudget;
  /** Last failure of each service (by id). */
  readonly serviceFailures = new Map<string, { reason: string; message: string }>();
  /** When each gated key's back-off ends (Note [Recovery budgets]). */
  waiting = new Map<string, number>();
  /** Note [Observer outage]: when this DPE could hear again; whether it could not since the last look. */
  private hearingSince = 0;
  private deaf = false;
  edgeDown = false;

  constructor(
    readonly deployableId: string,
    private readonly edge: EdgeConnection,
    private readonly bus: Bus,
  ) {}

  assemblyIdOf(a: AssemblyRt): string {
    return `${this.deployableId}.${a.name}.${a.incarnation}`;
  }

  assemblyById(assemblyId: string): AssemblyRt | undefined {
    // The second dot-separated part (no array: every heartbeat comes through here).
    const i = assemblyId.indexOf('.');
    const j = i < 0 ? -1 : assemblyId.indexOf('.', i + 1);
    const a = this.assemblies.get(i < 0 ? '' : assemblyId.slice(i + 1, j < 0 ? undefined : j));
    return a && this.assemblyIdOf(a) === assemblyId ? a : undefined;
  }

  /** The edge connected again: agents get time to reconnect (Note [Observer outage]). */
  edgeConnected(now: number): void {
    this.edgeDown = false;
    this.deaf = true; // even a blip between two looks: agents get time to reconnect
    this.hearing(now);
  }

  /** Whether this DPE can hear its agents now (Note [Observer outage]). */
  hearing(now: number): boolean {
    if (!this.edge.isConnected()) this.edgeDown = true;
    const up = !this.edgeDown && this.bus.isReady();
    if (!up) this.deaf = true;
    else if (this.deaf) {
      this.deaf = false;
      this.hearingSince = now;
    }
    return up;
  }

  /** When the assembly was last heard from, not counting this DPE's own outage (Note [Observer outage]). */
  heardAt(a: AssemblyRt, now: number): number | undefined {
    if (a.lastHeartbeat === undefined) return undefined;
    if (!this.hearing(now)) return now;
    // Not heard since this DPE could hear again: the agent gets time to reconnect too.
    if (a.lastHeartbeat < this.hearingSince) return this.hearingSince + AGENT_RECONNECT_GRACE_MS;
    return a.lastHeartbeat;
  }

  /** How long an agent may be silent before its assembly counts as missing. */
  heartbeatDeadlineMs(): number {
    return this.doc ? this.doc.monitor.heartbeatIntervalMs * this.doc.monitor.missedHeartbeats : 3000;
  }

  /** What the DPE sees now, in the policy engine's terms. */
  observed(now: number): DeployableObservedState {
    const deadline = this.heartbeatDeadlineMs();
    const assemblies: Record<string, { state: 'online' | 'failed' | 'pending'; since?: number }> = {};
    const services: Record<string, { state: 'running' | 'failed' | 'stopped'; assembly?: string }> = {};
    const svc: Record<string, ServiceObserved> = {};
    for (const a of this.assemblies.values()) {
      const heard = this.heardAt(a, now);
      const online =
        !a.failed &&
        heard !== undefined &&
        now - heard <= deadline &&
        (a.instanceState === undefined || a.instanceState === 'running');
      assemblies[a.name] = a.failed
        ? { state: 'failed' }
        : online
          ? { state: 'online', since: a.firstHeartbeat }
          : { state: 'pending' };
      if (!online) continue;
      for (const [name, seen] of a.services) {
        const id = serviceIdOf(name);
        const prev = svc[id];
        // A service reported on two assemblies: the running report wins, then its home.
        if (!prev || (prev.state !== 'running' && seen.state === 'running'))
          svc[id] = { state: seen.state, assembly: a.name };
      }
    }
    for (const [id, s] of Object.entries(svc))
      services[id] = s.state === 'stopped' ? { state: 'stopped' } : s;
    return { assemblies, services };
  }

  /** Failures older than a day, or beyond the last 100, no longer count. */
  trimHistory(now: number): void {
    const horizon = now - 24 * 3_600_000;
    for (const k of Object.keys(this.history.services)) {
      this.history.services[k] = this.history.services[k]!.filter((f) => f.at > horizon).slice(-100);
    }
    for (const k of Object.keys(this.history.assemblies)) {
      this.history.assemblies[k] = this.history.assemblies[k]!.filter((t) => t > horizon).slice(-100);
    }
  }

  /** A reference `${assembly.parameter}` in a service's configuration. */
  resolveParameter(assembly: string, parameter: string): string | undefined {
    const a = this.assemblies.get(assembly);
    if (!a) return undefined;
    if (parameter === 'address' || parameter === 'ip') return a.addresses[0];
    if (parameter === 'instance' || parameter === 'instanceId') return a.instanceId;
    if (parameter === 'name') return `${this.doc!.name}-${a.name}`;
    return undefined;
  }

  /** A new configuration: failures and budgets start again. */
  giveNewChance(): void {
    this.failedReason = undefined;
    this.failure = undefined;
    this.history = { services: {}, assemblies: {} };
    this.serviceFailures.clear();
    this.budget?.reset();
    for (const a of this.assemblies.values()) a.launchFailures = 0;
  }

  /** What the CPE keeps across restarts. */
  saved(): SavedState {
    return {
      incarnations: Object.fromEntries([...this.assemblies.values()].map((a) => [a.name, a.incarnation])),
      history: this.history,
      ...(this.failedReason ? { failedReason: this.failedReason } : {}),
      ...(this.failure ? { failure: this.failure } : {}),
    };
  }

  restore(saved: SavedState | null | undefined): void {
    if (saved?.history)
      this.history = { services: saved.history.services ?? {}, assemblies: saved.history.assemblies ?? {} };
    if (saved?.failedReason) this.failedReason = saved.failedReason;
    if (saved?.failure) this.failure = saved.failure;
  }
}
