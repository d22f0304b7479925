import {
  AgentEvent,
  AgentHeartbeat,
  AgentMessageRefused,
  AgentServiceStatus,
  AssemblyFailed,
  AssemblyHeartbeatMissed,
  AssemblyRecovered,
  CloudEvent,
  DeployableDocument,
  InstanceState,
  ServiceFailed,
  ServiceFailureCause,
} from '@nephele/contracts';
import { AgentAuth } from './agent-auth';
import { DeployableConfig } from './dpe-state.store';
import { DpeReporter } from './dpe.reporter';
import { AssemblyRt, DpeContext, InstanceView, newAssembly, parseOwner, serviceIdOf } from './dpe.types';
import { DeployableState } from './observed-state';
import {
  hardFailureMessage,
  launchFailureReason,
  RecoveryBudget,
  serviceFailureReason,
} from './recovery-budget';
import { serviceDoc, toPolicySpec } from './spec.mapping';

/**
 * The DPE's inputs (Note [DPE]): configuration, the instances found at start, instance events, agent
 * heartbeats and reports, the clock's deadlines. Each only updates the observed state and asks for a
 * reconcile; none acts.
 */
export class DpeIntake {
  constructor(
    private readonly ctx: DpeContext,
    private readonly state: DeployableState,
    private readonly report: DpeReporter,
  ) {}

  /** Takes a configuration read from the CPE (a newer version than the one held). */
  applyConfig(r: DeployableConfig): void {
    const s = this.state;
    if (r.version === s.version) return;
    const first = s.version === 0;
    const ids = (d: DeployableDocument) =>
      new Map(d.assemblies.flatMap((a) => a.services.map((x) => [`${a.name}/${x.name}`, x] as const)));
    // Services this version removes keep their definition, for their stop (Note [Removed services]).
    const next = ids(r.document);
    if (s.doc) for (const [id, x] of ids(s.doc)) if (!next.has(id)) s.retired.set(id, x);
    for (const id of next.keys()) s.retired.delete(id);
    s.doc = r.document;
    s.spec = toPolicySpec(r.document);
    s.version = r.version;
    s.project = r.project;
    s.auth ??= new AgentAuth(
      r.agentKey,
      (x) =>
        void this.report.publishEvent(AgentMessageRefused.type, {
          deployableId: this.ctx.deployableId,
          ...x,
          epoch: this.ctx.epoch,
        }),
      () => this.ctx.now(),
    );
    if (s.budget) s.budget.setDocument(r.document);
    else s.budget = new RecoveryBudget(r.document);
    if (!first) s.giveNewChance(); // a new configuration gets a new chance
    for (const a of r.document.assemblies) {
      if (!s.assemblies.has(a.name)) s.assemblies.set(a.name, newAssembly(a.name, 1));
    }
  }

  /** After a restart: each assembly's current incarnation and its instance, from the tracker's list. */
  adoptInstances(instances: InstanceView[], saved: Record<string, number>): void {
    for (const a of this.state.assemblies.values()) {
      const mine = instances
        .map((i) => ({ i, o: parseOwner(i.owner) }))
        .filter((x) => x.o?.assembly === a.name);
      const maxSeen = Math.max(0, ...mine.map((x) => x.o!.n));
      const n = Math.max(saved[a.name] ?? 1, maxSeen, 1);
      const rt = newAssembly(a.name, n);
      const current = mine.find((x) => x.o!.n === n)?.i;
      if (current && (current.state === 'terminated' || current.state === 'error')) {
        // Gone before this DPE started (the deployable was stopped, or a predecessor was replacing
        // it): not a failure this DPE saw; the next incarnation is launched.
        rt.incarnation = n + 1;
        if (current.state === 'error') rt.destroying.add(current.id);
      } else if (current) {
        rt.instanceId = current.id;
        rt.instanceState = current.state;
        rt.addresses = current.addresses;
        rt.launchRequestedAt = this.ctx.now();
      }
      // Otherwise the reconcile launches incarnation n: if a predecessor already did, the same
      // idempotency key returns that instance.
      // Old incarnations still alive are destroyed (a predecessor's replacement half done).
      for (const x of mine) {
        if (x.o!.n < n && x.i.state !== 'terminated') rt.destroying.add(x.i.id);
      }
      this.state.assemblies.set(a.name, rt);
    }
  }

  /** Instance events for this deployable (the host dispatches them by owner). */
  onInstanceEvent(e: CloudEvent): void {
    const data = e.data as {
      owner?: string;
      instanceId: string;
      to?: InstanceState;
      state?: InstanceState;
      addresses?: string[];
      reason?: string;
    };
    const o = data.owner ? parseOwner(data.owner) : undefined;
    if (!o) return;
    const a = this.state.assemblies.get(o.assembly);
    if (!a || o.n !== a.incarnation) return;
    switch (e.type) {
      case 'nephele.instance.launch_succeeded':
        a.instanceId = data.instanceId;
        if (data.state) a.instanceState = data.state;
        if (data.addresses?.length) a.addresses = data.addresses;
        a.launchFailures = 0;
        a.launchError = undefined;
        break;
      case 'nephele.instance.launch_failed':
        a.launchFailures++;
        a.retryAt = this.ctx.now() + Math.min(60_000, 2000 * 2 ** (a.launchFailures - 1));
        a.launchRequestedAt = undefined;
        if (/stale epoch/.test(data.reason ?? '')) return this.ctx.halt(data.reason!);
        this.onLaunchFailed(a, data.reason ?? 'launch failed');
        // The key's failure is final at the gateway: the next attempt is a new incarnation.
        a.incarnation++;
        void this.ctx.persist();
        break;
      case 'nephele.instance.state_changed': {
        a.instanceId = data.instanceId;
        a.instanceState = data.to;
        if (data.addresses?.length) a.addresses = data.addresses;
        if ((data.to === 'terminated' || data.to === 'error') && !a.failed) {
          void this.declareFailed(a, `instance ${data.to}: ${data.reason ?? ''}`.trim());
        }
        break;
      }
      default:
        return;
    }
    this.ctx.requestReconcile();
  }

  /** A message from an agent (already authenticated and parsed). */
  onAgentEvent(ev: AgentEvent): void {
    const a = this.state.assemblyById(ev.assemblyId);
    if (!a) return; // an old incarnation's agent, or a stranger
    const now = this.ctx.now();
    switch (ev.kind) {
      case 'heartbeat':
        return this.onHeartbeat(a, ev, now);
      case 'service-status':
        return this.onServiceStatus(a, ev, now);
      case 'command-refused':
        if (ev.highestEpoch > this.ctx.epoch)
          void this.ctx.persist(); // only the CPE can say we are stale
        else this.ctx.log.warn({ assemblyId: ev.assemblyId, reason: ev.reason }, 'agent refused a command');
        return;
    }
  }

  private onHeartbeat(a: AssemblyRt, hb: AgentHeartbeat, now: number): void {
    // Only the CPE can say this DPE is stale (epochs move forward through it): ask it.
    if (hb.epoch !== undefined && hb.epoch > this.ctx.epoch) void this.ctx.persist();
    const wasMissing = a.missedAnnounced;
    // A heartbeat that only says "still alive, nothing changed" needs no reconcile: the periodic
    // pass covers it, and 10,000 assemblies heartbeat every second.
    let changed = a.firstHeartbeat === undefined || wasMissing;
    a.lastHeartbeat = now;
    a.firstHeartbeat ??= now;
    const sent = Date.parse(hb.sentAt);
    // Loops without copies: one heartbeat per assembly and interval (Note [Heartbeat fast path]).
    for (const name in hb.services) {
      const state = hb.services[name]!;
      const prev = a.services.get(name);
      if (prev && prev.reportedAt > sent) continue; // a newer report already said more
      if (!prev || prev.state !== state) {
        a.services.set(name, { state, at: now, reportedAt: sent });
        changed = true;
      } else prev.reportedAt = sent;
    }
    for (const name of a.services.keys()) {
      if (!(name in hb.services)) {
        a.services.delete(name);
        changed = true;
      }
    }
    if (wasMissing && !a.failed) {
      a.missedAnnounced = false;
      void this.report.publishEvent(AssemblyRecovered.type, {
        assemblyId: this.state.assemblyIdOf(a),
        deployableId: this.ctx.deployableId,
        assembly: a.name,
        reason: 'heartbeats resumed',
        epoch: this.ctx.epoch,
      });
    }
    if (changed) this.ctx.requestReconcile();
  }

  private onServiceStatus(a: AssemblyRt, st: AgentServiceStatus, now: number): void {
    const prev = a.services.get(st.service);
    const reportedAt = Date.parse(st.at);
    if (prev && prev.reportedAt > reportedAt) return; // stale
    a.services.set(st.service, { state: st.state, at: now, reportedAt });
    if (st.state === 'failed' && prev?.state !== 'failed')
      this.recordServiceFailure(a, st.service, st.reason, st.exitCode, st.cause);
    this.ctx.requestReconcile();
  }

  /** A service failed (reported, or its start/stop command failed): history, budgets, event. */
  recordServiceFailure(
    a: AssemblyRt,
    agentName: string,
    reason: string,
    exitCode?: number,
    cause?: ServiceFailureCause,
  ): void {
    const s = this.state;
    const now = this.ctx.now();
    const id = serviceIdOf(agentName);
    const svc = s.doc ? serviceDoc(s.doc, id) : undefined;
    const why = serviceFailureReason(cause, svc?.class);
    s.serviceFailures.set(id, { reason: why.reason, message: `${id} on ${a.name}: ${reason}` });
    if (why.hard)
      this.report.fail({
        entity: 'service',
        name: id,
        reason: why.reason,
        message: hardFailureMessage(id, svc, reason),
        at: now,
      });
    (s.history.services[id] ??= []).push({ at: now, assembly: a.name });
    s.trimHistory(now);
    void this.ctx.persist();
    void this.report.publishEvent(ServiceFailed.type, {
      deployableId: this.ctx.deployableId,
      assemblyId: s.assemblyIdOf(a),
      assembly: a.name,
      service: id,
      reason,
      ...(exitCode !== undefined ? { exitCode } : {}),
      epoch: this.ctx.epoch,
    });
  }

  private onLaunchFailed(a: AssemblyRt, message: string): void {
    const why = launchFailureReason(message);
    a.launchError = { reason: why.reason, message };
    const budget = this.state.budget!.launchAttempts();
    if (why.terminal || a.launchFailures >= budget)
      return this.report.fail({
        entity: 'assembly',
        name: a.name,
        reason: why.reason,
        message: why.terminal
          ? `assembly ${a.name} cannot be launched: ${message}`
          : `assembly ${a.name} could not be launched ${a.launchFailures} times in a row (budget ${budget}): ${message}`,
        at: this.ctx.now(),
      });
    this.report.setStatus('degraded', `assembly ${a.name} could not be launched: ${message}`);
  }

  /** The clock: heartbeat deadlines and boot timeouts (Note [Observer outage]). */
  checkDeadlines(now: number): void {
    const s = this.state;
    if (!s.doc) return;
    const { heartbeatIntervalMs, missedHeartbeats } = s.doc.monitor;
    const deadline = heartbeatIntervalMs * missedHeartbeats;
    const bootTimeoutMs = this.ctx.d.bootTimeoutMs ?? 90_000;
    for (const a of s.assemblies.values()) {
      if (a.failed) continue;
      const heard = s.heardAt(a, now);
      if (a.lastHeartbeat !== undefined && heard !== undefined && now - heard > deadline) {
        if (a.missedAnnounced) continue;
        a.missedAnnounced = true;
        const missed = Math.floor((now - a.lastHeartbeat) / heartbeatIntervalMs);
        void this.report.publishEvent(AssemblyHeartbeatMissed.type, {
          assemblyId: s.assemblyIdOf(a),
          deployableId: this.ctx.deployableId,
          assembly: a.name,
          missed,
          lastSeen: new Date(a.lastHeartbeat).toISOString(),
          reason: `no heartbeat for ${now - a.lastHeartbeat} ms (interval ${heartbeatIntervalMs} ms × ${missedHeartbeats})`,
          epoch: this.ctx.epoch,
        });
        void this.declareFailed(a, `missed ${missed} heartbeats`);
      } else if (
        a.lastHeartbeat === undefined &&
        a.instanceState === 'running' &&
        a.launchRequestedAt !== undefined &&
        now - a.launchRequestedAt > bootTimeoutMs
      ) {
        void this.declareFailed(a, `the agent never reported within ${bootTimeoutMs / 1000} s of launch`);
      }
    }
  }

  private async declareFailed(a: AssemblyRt, reason: string): Promise<void> {
    if (a.failed) return;
    const now = this.ctx.now();
    a.failed = { at: now, reason };
    (this.state.history.assemblies[a.name] ??= []).push(now);
    void this.ctx.persist();
    await this.report.publishEvent(AssemblyFailed.type, {
      assemblyId: this.state.assemblyIdOf(a),
      deployableId: this.ctx.deployableId,
      assembly: a.name,
      reason,
      epoch: this.ctx.epoch,
    });
    this.ctx.requestReconcile();
  }
}
