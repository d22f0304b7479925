import { Bus, LoggerLike } from '@nephele/bus';
import {
  AgentAddresses,
  AgentCommand,
  AgentEvent,
  AgentHeartbeat,
  AgentMessageRefused,
  AgentServiceStatus,
  AssemblyFailed,
  AssemblyHeartbeatMissed,
  AssemblyRecovered,
  CloudEvent,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  createEvent,
  DeployableDocument,
  DeployableObserved,
  DeployableStatus,
  DeployableStatusChanged,
  DpeDecision,
  InstanceCreate,
  InstanceDestroy,
  InstanceQuery,
  InstanceState,
  parseAgentEvent,
  ServiceFailed,
  ServiceFailureCause,
  ServiceStarted,
  ServiceState,
  ServiceStopped,
  Topology,
} from '@nephele/contracts';
import { EdgeConnection, EdgeOutcomes, EdgeSubscription } from '@nephele/bus';
import {
  DeployableFailureHistory,
  DeployableObservedState,
  DeployablePlan,
  DeployableSpec,
  planDeployable,
  PolicyStep,
} from '@nephele/policy';
import { AgentAuth } from './agent-auth';
import { assemblyCondition, ConditionClock, deployableCondition, serviceCondition } from './conditions';
import {
  hardFailureMessage,
  launchFailureReason,
  RecoveryBudget,
  serviceFailureReason,
  TerminalFailure,
} from './recovery-budget';
import { serviceDoc, toAgentService, toPolicySpec } from './spec.mapping';

// Note [DPE]
// One DPE keeps one deployable healthy. It is level-based: every input (an agent heartbeat or
// service report, an instance event, a config change, the clock) only updates what the DPE has
// observed and asks for a reconcile; a reconcile reads the whole observed state, asks the policy
// engine for a plan and carries the plan's steps out in dependency order. A reconcile that finds
// nothing to do does nothing, so repeating one is harmless.
//
// Assemblies are instances running the agent. Each assembly has an incarnation number n: its
// instance is owned by `deployable:<id>/<assembly>#<n>` and launched with that owner as the
// idempotency key, so a DPE that restarts and launches "again" gets the instance its predecessor
// launched (see Note [Launch idempotency] in the gateway). Replacing an assembly destroys
// incarnation n and launches n+1. The incarnations and the failure history are saved in the CPE
// (fenced by epoch) so the ladder's counts survive a DPE restart.
//
// Fencing: every command carries the DPE's epoch; the gateway and the agents refuse a lower epoch
// than the highest they have seen. A DPE told it is stale stops acting and tells its host.

export interface DpeDeps {
  deployableId: string;
  epoch: number;
  workerId: string;
  bus: Bus;
  edge: EdgeConnection;
  log: LoggerLike;
  /** The AMQP 1.0 URL agents connect to (put in their user data). */
  agentEdgeUrl: string;
  now?: () => number;
  /** An instance that runs but never heartbeats is failed after this (default 90 s). */
  bootTimeoutMs?: number;
  /** How long an agent command may take before it counts as failed (default 60 s). */
  commandTimeoutMs?: number;
  /** Called when the DPE learns it is stale or its deployable is gone. */
  onStop?: (reason: string) => void;
}

interface ServiceSeen {
  state: ServiceState;
  at: number;
  /**
   * The agent's time of the report this state comes from. Heartbeats and service reports travel
   * separately; an older report must not overwrite a newer one (a heartbeat sent just before a
   * failure would otherwise make the service look running again, and the failure count twice).
   */
  reportedAt: number;
}

interface AssemblyRt {
  name: string;
  incarnation: number;
  instanceId?: string;
  instanceState?: InstanceState;
  addresses: string[];
  launchRequestedAt?: number;
  launchFailures: number;
  retryAt?: number;
  lastHeartbeat?: number;
  firstHeartbeat?: number;
  failed?: { at: number; reason: string };
  services: Map<string, ServiceSeen>;
  missedAnnounced: boolean;
  destroying: Set<string>;
  /** The last launch failure (Note [Conditions]). */
  launchError?: { reason: string; message: string };
}

interface SavedState {
  incarnations: Record<string, number>;
  history: {
    services: Record<string, { at: number; assembly: string }[]>;
    assemblies: Record<string, number[]>;
  };
  failedReason?: string;
  /** What failed for good, and why (Note [Recovery budgets]). */
  failure?: TerminalFailure;
}

interface InstanceView {
  id: string;
  owner: string;
  state: InstanceState;
  addresses: string[];
  name: string | null;
}

const SERVICE = 'dpe-worker';

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

export function ownerOf(deployableId: string, assembly: string, n: number): string {
  return `deployable:${deployableId}/${assembly}#${n}`;
}

export function parseOwner(owner: string): { deployableId: string; assembly: string; n: number } | undefined {
  const m = /^deployable:([^/]+)\/([^#]+)#(\d+)$/.exec(owner);
  return m ? { deployableId: m[1]!, assembly: m[2]!, n: Number(m[3]) } : undefined;
}

/** The agent's name of a service: `<home assembly>.<service>` (unique in the deployable). */
export const agentServiceName = (id: string) => id.replace('/', '.');
export const serviceIdOf = (agentName: string) => agentName.replace('.', '/');

/** See Note [DPE]. */
export class Dpe {
  readonly deployableId: string;
  readonly epoch: number;
  private doc?: DeployableDocument;
  private spec?: DeployableSpec;
  private version = 0;
  private project?: string;
  private readonly assemblies = new Map<string, AssemblyRt>();
  private history: SavedState['history'] = { services: {}, assemblies: {} };
  private status: DeployableStatus = 'starting';
  private statusReason = 'starting';
  private everRunning = false;
  private failedReason?: string;
  private stopped = false;
  private reconciling = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private observedTimer?: NodeJS.Timeout;
  private agentSub?: EdgeSubscription;
  private seq = 0;
  private lastPlan?: DeployablePlan;
  private readonly now: () => number;
  /** Note [Observer outage]: when this DPE could hear again; whether it could not since the last look. */
  private hearingSince = 0;
  private deaf = false;
  private edgeDown = false;
  private offConnected?: () => void;
  private auth?: AgentAuth;
  private budget?: RecoveryBudget;
  private failure?: TerminalFailure;
  private readonly conditionClock = new ConditionClock();
  /** Last failure of each service (by id), and when its back-off ends. */
  private readonly serviceFailures = new Map<string, { reason: string; message: string }>();
  private waiting = new Map<string, number>();
  private wakeTimer?: NodeJS.Timeout;

  constructor(private readonly d: DpeDeps) {
    this.deployableId = d.deployableId;
    this.epoch = d.epoch;
    this.now = d.now ?? (() => Date.now());
  }

  private get log(): LoggerLike {
    return this.d.log;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const loaded = await this.loadConfig();
    if (!loaded) return;
    const saved = await this.d.bus
      .request<{ state: SavedState | null }>(
        createEvent(SERVICE, CpeDpeStateGet.type, { deployableId: this.deployableId }),
        { timeoutMs: 10_000 },
      )
      .then((r) => r.state)
      .catch(() => null);
    if (saved?.history)
      this.history = { services: saved.history.services ?? {}, assemblies: saved.history.assemblies ?? {} };
    if (saved?.failedReason) this.failedReason = saved.failedReason;
    if (saved?.failure) this.failure = saved.failure;
    await this.adoptInstances(saved?.incarnations ?? {});
    this.agentSub = await this.d.edge.receive(AgentAddresses.events(this.deployableId), async (m) => {
      const forged = this.auth!.check(m.body);
      if (forged) return EdgeOutcomes.reject(`refused: ${forged}`);
      const r = parseAgentEvent(m.body);
      if (!r.ok)
        return EdgeOutcomes.reject(
          `invalid agent message: ${r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
        );
      this.onAgentEvent(r.value);
      return EdgeOutcomes.accept();
    });
    this.offConnected = this.d.edge.onConnected(() => {
      this.edgeDown = false;
      this.deaf = true; // even a blip between two looks: agents get time to reconnect
      this.hearing(this.now());
    });
    this.timer = setInterval(() => this.tick(), 250);
    this.observedTimer = setInterval(() => void this.publishObserved(), 2000);
    await this.publishEvent(DpeDecision.type, {
      deployableId: this.deployableId,
      epoch: this.epoch,
      action: 'resume',
      explanation: `DPE started (epoch ${this.epoch}, config v${this.version})`,
    });
    this.requestReconcile();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.observedTimer) clearInterval(this.observedTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.offConnected?.();
    await this.agentSub?.close().catch(() => undefined);
  }

  private halt(reason: string): void {
    if (this.stopped) return;
    this.log.warn({ deployableId: this.deployableId, epoch: this.epoch, reason }, 'DPE stops acting');
    void this.stop();
    this.d.onStop?.(reason);
  }

  /** Reads the deployable's current configuration from the CPE; false when it no longer exists. */
  private async loadConfig(): Promise<boolean> {
    const r = await this.d.bus.request<{
      version: number;
      document: DeployableDocument;
      desired: string;
      project?: string;
      agentKey?: string;
    } | null>(createEvent(SERVICE, CpeDeployableGet.type, { deployableId: this.deployableId }), {
      timeoutMs: 10_000,
    });
    if (!r) {
      this.halt('the deployable no longer exists');
      return false;
    }
    if (r.version !== this.version) {
      const first = this.version === 0;
      this.doc = r.document;
      this.spec = toPolicySpec(r.document);
      this.version = r.version;
      this.project = r.project;
      this.auth ??= new AgentAuth(
        r.agentKey,
        (x) =>
          void this.publishEvent(AgentMessageRefused.type, {
            deployableId: this.deployableId,
            ...x,
            epoch: this.epoch,
          }),
        this.now,
      );
      if (this.budget) this.budget.setDocument(r.document);
      else this.budget = new RecoveryBudget(r.document);
      if (!first) this.giveNewChance(); // a new configuration gets a new chance
      for (const a of r.document.assemblies) {
        if (!this.assemblies.has(a.name)) this.assemblies.set(a.name, this.newAssembly(a.name, 1));
      }
    }
    return true;
  }

  /** A config change: re-read and converge (services added or removed, nothing else touched). */
  async configChanged(version: number): Promise<void> {
    if (version <= this.version) return;
    if (await this.loadConfig()) {
      await this.publishEvent(DpeDecision.type, {
        deployableId: this.deployableId,
        epoch: this.epoch,
        action: 'reconfigure',
        explanation: `configuration v${version} applied`,
      });
      this.requestReconcile();
    }
  }

  private newAssembly(name: string, n: number): AssemblyRt {
    return {
      name,
      incarnation: n,
      addresses: [],
      services: new Map(),
      missedAnnounced: false,
      launchFailures: 0,
      destroying: new Set(),
    };
  }

  /** After a restart: find each assembly's current incarnation and its instance at the tracker. */
  private async adoptInstances(saved: Record<string, number>): Promise<void> {
    const r = await this.d.bus
      .request<{ items: InstanceView[] }>(
        createEvent(SERVICE, InstanceQuery.type, {
          ownerPrefix: `deployable:${this.deployableId}/`,
          includeTerminated: true,
        }),
        { timeoutMs: 10_000 },
      )
      .catch((e: Error) => {
        this.log.warn(
          { err: e.message },
          'could not read instances from the state tracker; starting from saved state',
        );
        return { items: [] as InstanceView[] };
      });
    for (const a of this.assemblies.values()) {
      const mine = r.items
        .map((i) => ({ i, o: parseOwner(i.owner) }))
        .filter((x) => x.o?.assembly === a.name);
      const maxSeen = Math.max(0, ...mine.map((x) => x.o!.n));
      const n = Math.max(saved[a.name] ?? 1, maxSeen, 1);
      const rt = this.newAssembly(a.name, n);
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
        rt.launchRequestedAt = this.now();
      }
      // Otherwise the reconcile launches incarnation n: if a predecessor already did, the same
      // idempotency key returns that instance.
      // Old incarnations still alive are destroyed (a predecessor's replacement half done).
      for (const x of mine) {
        if (x.o!.n < n && x.i.state !== 'terminated') rt.destroying.add(x.i.id);
      }
      this.assemblies.set(a.name, rt);
    }
  }

  // ------------------------------------------------------------------ inputs

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
    const a = this.assemblies.get(o.assembly);
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
        a.retryAt = this.now() + Math.min(60_000, 2000 * 2 ** (a.launchFailures - 1));
        a.launchRequestedAt = undefined;
        if (/stale epoch/.test(data.reason ?? '')) return this.halt(data.reason!);
        this.onLaunchFailed(a, data.reason ?? 'launch failed');
        // The key's failure is final at the gateway: the next attempt is a new incarnation.
        a.incarnation++;
        void this.saveState();
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
    this.requestReconcile();
  }

  private assemblyById(assemblyId: string): AssemblyRt | undefined {
    const a = this.assemblies.get(assemblyId.split('.')[1] ?? '');
    return a && this.assemblyIdOf(a) === assemblyId ? a : undefined;
  }

  private assemblyIdOf(a: AssemblyRt): string {
    return `${this.deployableId}.${a.name}.${a.incarnation}`;
  }

  private onAgentEvent(ev: AgentEvent): void {
    const a = this.assemblyById(ev.assemblyId);
    if (!a) return; // an old incarnation's agent, or a stranger
    const now = this.now();
    switch (ev.kind) {
      case 'heartbeat':
        return this.onHeartbeat(a, ev, now);
      case 'service-status':
        return this.onServiceStatus(a, ev, now);
      case 'command-refused':
        if (ev.highestEpoch > this.epoch)
          void this.saveState(); // only the CPE can say we are stale
        else this.log.warn({ assemblyId: ev.assemblyId, reason: ev.reason }, 'agent refused a command');
        return;
    }
  }

  private onHeartbeat(a: AssemblyRt, hb: AgentHeartbeat, now: number): void {
    // Only the CPE can say this DPE is stale (epochs move forward through it): ask it.
    if (hb.epoch !== undefined && hb.epoch > this.epoch) void this.saveState();
    const wasMissing = a.missedAnnounced;
    // A heartbeat that only says "still alive, nothing changed" needs no reconcile: the periodic
    // pass covers it, and 10,000 assemblies heartbeat every second.
    let changed = a.firstHeartbeat === undefined || wasMissing;
    a.lastHeartbeat = now;
    a.firstHeartbeat ??= now;
    const sent = Date.parse(hb.sentAt);
    for (const [name, state] of Object.entries(hb.services)) {
      const prev = a.services.get(name);
      if (prev && prev.reportedAt > sent) continue; // a newer report already said more
      if (!prev || prev.state !== state) {
        a.services.set(name, { state, at: now, reportedAt: sent });
        changed = true;
      } else prev.reportedAt = sent;
    }
    for (const name of [...a.services.keys()]) {
      if (!(name in hb.services)) {
        a.services.delete(name);
        changed = true;
      }
    }
    if (wasMissing && !a.failed) {
      a.missedAnnounced = false;
      void this.publishEvent(AssemblyRecovered.type, {
        assemblyId: this.assemblyIdOf(a),
        deployableId: this.deployableId,
        assembly: a.name,
        reason: 'heartbeats resumed',
        epoch: this.epoch,
      });
    }
    if (changed) this.requestReconcile();
  }

  private onServiceStatus(a: AssemblyRt, st: AgentServiceStatus, now: number): void {
    const prev = a.services.get(st.service);
    const reportedAt = Date.parse(st.at);
    if (prev && prev.reportedAt > reportedAt) return; // stale
    a.services.set(st.service, { state: st.state, at: now, reportedAt });
    if (st.state === 'failed' && prev?.state !== 'failed')
      this.recordServiceFailure(a, st.service, st.reason, st.exitCode, st.cause);
    this.requestReconcile();
  }

  private recordServiceFailure(
    a: AssemblyRt,
    agentName: string,
    reason: string,
    exitCode?: number,
    cause?: ServiceFailureCause,
  ): void {
    const id = serviceIdOf(agentName);
    const svc = this.doc ? serviceDoc(this.doc, id) : undefined;
    const why = serviceFailureReason(cause, svc?.class);
    this.serviceFailures.set(id, { reason: why.reason, message: `${id} on ${a.name}: ${reason}` });
    if (why.hard)
      this.fail({
        entity: 'service',
        name: id,
        reason: why.reason,
        message: hardFailureMessage(id, svc, reason),
        at: this.now(),
      });
    const list = (this.history.services[id] ??= []);
    list.push({ at: this.now(), assembly: a.name });
    this.trimHistory();
    void this.saveState();
    void this.publishEvent(ServiceFailed.type, {
      deployableId: this.deployableId,
      assemblyId: this.assemblyIdOf(a),
      assembly: a.name,
      service: id,
      reason,
      ...(exitCode !== undefined ? { exitCode } : {}),
      epoch: this.epoch,
    });
  }

  private trimHistory(): void {
    const horizon = this.now() - 24 * 3_600_000;
    for (const k of Object.keys(this.history.services)) {
      this.history.services[k] = this.history.services[k]!.filter((f) => f.at > horizon).slice(-100);
    }
    for (const k of Object.keys(this.history.assemblies)) {
      this.history.assemblies[k] = this.history.assemblies[k]!.filter((t) => t > horizon).slice(-100);
    }
  }

  // ------------------------------------------------------------------ clock

  /** Whether this DPE can hear its agents now (Note [Observer outage]). */
  private hearing(now: number): boolean {
    if (!this.d.edge.isConnected()) this.edgeDown = true;
    const up = !this.edgeDown && this.d.bus.isReady();
    if (!up) this.deaf = true;
    else if (this.deaf) {
      this.deaf = false;
      this.hearingSince = now;
    }
    return up;
  }

  /** When the assembly was last heard from, not counting this DPE's own outage (Note [Observer outage]). */
  private heardAt(a: AssemblyRt, now: number): number | undefined {
    if (a.lastHeartbeat === undefined) return undefined;
    if (!this.hearing(now)) return now;
    // Not heard since this DPE could hear again: the agent gets time to reconnect too.
    if (a.lastHeartbeat < this.hearingSince) return this.hearingSince + AGENT_RECONNECT_GRACE_MS;
    return a.lastHeartbeat;
  }

  private tick(): void {
    if (this.stopped || !this.doc) return;
    const now = this.now();
    const { heartbeatIntervalMs, missedHeartbeats } = this.doc.monitor;
    const deadline = heartbeatIntervalMs * missedHeartbeats;
    for (const a of this.assemblies.values()) {
      if (a.failed) continue;
      const heard = this.heardAt(a, now);
      if (a.lastHeartbeat !== undefined && heard !== undefined && now - heard > deadline) {
        if (!a.missedAnnounced) {
          a.missedAnnounced = true;
          const missed = Math.floor((now - a.lastHeartbeat) / heartbeatIntervalMs);
          void this.publishEvent(AssemblyHeartbeatMissed.type, {
            assemblyId: this.assemblyIdOf(a),
            deployableId: this.deployableId,
            assembly: a.name,
            missed,
            lastSeen: new Date(a.lastHeartbeat).toISOString(),
            reason: `no heartbeat for ${now - a.lastHeartbeat} ms (interval ${heartbeatIntervalMs} ms × ${missedHeartbeats})`,
            epoch: this.epoch,
          });
          void this.declareFailed(a, `missed ${missed} heartbeats`);
        }
      } else if (
        a.lastHeartbeat === undefined &&
        a.instanceState === 'running' &&
        a.launchRequestedAt !== undefined &&
        now - a.launchRequestedAt > (this.d.bootTimeoutMs ?? 90_000)
      ) {
        void this.declareFailed(
          a,
          `the agent never reported within ${(this.d.bootTimeoutMs ?? 90_000) / 1000} s of launch`,
        );
      }
    }
    // Periodic level-based pass: catches anything an event could not (retries, unresolved refs).
    if (this.seq++ % 8 === 0) this.requestReconcile();
  }

  private async declareFailed(a: AssemblyRt, reason: string): Promise<void> {
    if (a.failed) return;
    a.failed = { at: this.now(), reason };
    (this.history.assemblies[a.name] ??= []).push(this.now());
    void this.saveState();
    await this.publishEvent(AssemblyFailed.type, {
      assemblyId: this.assemblyIdOf(a),
      deployableId: this.deployableId,
      assembly: a.name,
      reason,
      epoch: this.epoch,
    });
    this.requestReconcile();
  }

  // ------------------------------------------------------------------ reconcile

  requestReconcile(): void {
    if (this.stopped) return;
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    void this.reconcileLoop();
  }

  private async reconcileLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.reconcile();
      } while (this.again && !this.stopped);
    } catch (e) {
      this.log.warn(
        { err: (e as Error).message, stack: (e as Error).stack, deployableId: this.deployableId },
        'reconcile failed',
      );
    } finally {
      this.reconciling = false;
    }
  }

  /** What the DPE sees now, in the policy engine's terms. */
  observed(): DeployableObservedState {
    const now = this.now();
    const deadline = this.doc
      ? this.doc.monitor.heartbeatIntervalMs * this.doc.monitor.missedHeartbeats
      : 3000;
    const assemblies: Record<string, { state: 'online' | 'failed' | 'pending'; since?: number }> = {};
    const services: Record<string, { state: 'running' | 'failed' | 'stopped'; assembly?: string }> = {};
    const svc: Record<string, { state: 'running' | 'failed' | 'stopped'; assembly: string }> = {};
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

  private async reconcile(): Promise<void> {
    if (this.stopped || !this.doc || !this.spec) return;
    const now = this.now();
    // 1. every assembly has an instance (or one on the way); a failed deployable launches nothing
    for (const a of this.assemblies.values()) {
      for (const id of a.destroying) await this.destroyInstance(a, id, 'an older incarnation is still alive');
      a.destroying.clear();
      if (a.failed || this.failedReason) continue;
      const live = a.instanceId && a.instanceState !== 'terminated' && a.instanceState !== 'error';
      if (!live && a.launchRequestedAt === undefined && (a.retryAt === undefined || now >= a.retryAt))
        await this.launch(a);
    }
    if (this.failedReason) return this.setStatus('failed', this.failedReason);
    // 2. plan and act
    const planned = planDeployable(this.spec, this.observed(), this.history as DeployableFailureHistory, now);
    this.lastPlan = planned;
    if (planned.steps.length === 0) {
      this.waiting.clear();
      return this.settleStatus(planned);
    }
    // Note [Recovery budgets]: back-off between attempts, moves bounded.
    const gated = this.budget!.gate(planned, now);
    this.waiting = gated.waiting;
    if (gated.failure) return this.fail(gated.failure);
    if (gated.wakeAt !== undefined) this.wakeAt(gated.wakeAt);
    const plan = { ...planned, actions: gated.actions, steps: gated.steps };
    if (plan.steps.length === 0) return this.settleStatus(planned);
    const recovering = plan.actions.some((x) => x.rung);
    if (recovering)
      this.setStatus(
        'recovering',
        plan.actions
          .filter((x) => x.rung)
          .map((x) => x.explanation)
          .join('; '),
      );
    for (const action of plan.actions) {
      if (action.kind === 'start' && !action.rung) continue; // routine starts are not worth an event each
      await this.publishEvent(DpeDecision.type, {
        deployableId: this.deployableId,
        epoch: this.epoch,
        action: action.kind,
        ...(action.rung ? { rung: action.rung } : {}),
        ...('resource' in action ? { service: action.resource } : {}),
        assembly: action.node,
        ...(action.kind === 'move' ? { from: action.from } : {}),
        explanation: action.explanation,
      });
    }
    await this.execute(plan.steps);
    if (!this.stopped) this.settleStatus(this.lastPlan);
  }

  /** Runs steps whose predecessors are done, concurrently; stops at the first failed step. */
  private async execute(steps: PolicyStep[]): Promise<void> {
    const done = new Set<string>();
    const pending = new Map(steps.map((s) => [s.id, s]));
    let failed = false;
    while (pending.size && !failed && !this.stopped && !this.failedReason) {
      const ready = [...pending.values()].filter((s) => s.after.every((x) => done.has(x)));
      if (!ready.length) break;
      const results = await Promise.all(
        ready.map((s) =>
          this.step(s).catch(
            (e: Error) => (this.log.warn({ err: e.message, step: s.id }, 'step failed'), false),
          ),
        ),
      );
      ready.forEach((s, i) => {
        pending.delete(s.id);
        if (results[i]) done.add(s.id);
        else failed = true;
      });
    }
  }

  private async step(s: PolicyStep): Promise<boolean> {
    const a = this.assemblies.get(s.node);
    switch (s.op) {
      case 'start':
      case 'stop': {
        if (!a || !s.resource) return false;
        const doc = serviceDoc(this.doc!, s.resource);
        if (!doc) return false;
        const resolved = toAgentService(doc, (asm, param) => this.resolveParameter(asm, param));
        if ('unresolved' in resolved) {
          this.log.info(
            { service: s.resource, unresolved: resolved.unresolved },
            'waiting for referenced assemblies',
          );
          return false;
        }
        resolved.spec.name = agentServiceName(s.resource);
        return this.command(a, s.op, resolved.spec, s.resource);
      }
      case 'replace-assembly': {
        if (!a) return false;
        const action = this.lastPlan?.actions.find((x) => x.id === s.action);
        if (action?.kind === 'replace-assembly' && action.recordsAssemblyFailure) {
          (this.history.assemblies[a.name] ??= []).push(this.now());
        }
        await this.replace(a, action?.explanation ?? 'replace the assembly');
        return true;
      }
      case 'mark-failed': {
        const action = this.lastPlan?.actions.find((x) => x.id === s.action);
        this.fail({
          entity: 'assembly',
          name: s.node,
          reason: 'RecoveryExhausted',
          message: action?.explanation ?? `assembly ${s.node} failed too often`,
          at: this.now(),
        });
        return false;
      }
    }
  }

  // ------------------------------------------------------------------ budgets (Note [Recovery budgets])

  /** A budget is spent or the failure is hard: the deployable is failed until the user acts. */
  private fail(f: TerminalFailure): void {
    if (this.failedReason) return;
    // Messages travel in events whose reasons are at most 2000 characters.
    f = { ...f, message: f.message.length > 1500 ? `${f.message.slice(0, 1497)}...` : f.message };
    this.failure = f;
    this.failedReason = f.message;
    void this.saveState();
    void this.publishEvent(DpeDecision.type, {
      deployableId: this.deployableId,
      epoch: this.epoch,
      action: 'mark-failed',
      rung: 'mark-failed',
      ...(f.entity === 'service' ? { service: f.name } : f.entity === 'assembly' ? { assembly: f.name } : {}),
      explanation: `${f.reason}: ${f.message}`,
    });
    this.setStatus('failed', f.message);
  }

  /** A new configuration: failures and budgets start again. */
  private giveNewChance(): void {
    this.failedReason = undefined;
    this.failure = undefined;
    this.history = { services: {}, assemblies: {} };
    this.serviceFailures.clear();
    this.budget?.reset();
    for (const a of this.assemblies.values()) a.launchFailures = 0;
  }

  private onLaunchFailed(a: AssemblyRt, message: string): void {
    const why = launchFailureReason(message);
    a.launchError = { reason: why.reason, message };
    const budget = this.budget!.launchAttempts();
    if (why.terminal || a.launchFailures >= budget)
      return this.fail({
        entity: 'assembly',
        name: a.name,
        reason: why.reason,
        message: why.terminal
          ? `assembly ${a.name} cannot be launched: ${message}`
          : `assembly ${a.name} could not be launched ${a.launchFailures} times in a row (budget ${budget}): ${message}`,
        at: this.now(),
      });
    this.setStatus('degraded', `assembly ${a.name} could not be launched: ${message}`);
  }

  private wakeAt(at: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.requestReconcile(), Math.max(0, at - this.now()) + 10);
    this.wakeTimer.unref?.();
  }

  private resolveParameter(assembly: string, parameter: string): string | undefined {
    const a = this.assemblies.get(assembly);
    if (!a) return undefined;
    if (parameter === 'address' || parameter === 'ip') return a.addresses[0];
    if (parameter === 'instance' || parameter === 'instanceId') return a.instanceId;
    if (parameter === 'name') return `${this.doc!.name}-${a.name}`;
    return undefined;
  }

  /** Sends a start/stop to an agent and waits for its result. */
  private async command(
    a: AssemblyRt,
    action: 'start' | 'stop',
    spec: AgentCommand['service'],
    serviceId: string,
  ): Promise<boolean> {
    const requestId = `${this.epoch}:${this.now()}:${++this.seq}`;
    const assemblyId = this.assemblyIdOf(a);
    const cmd = this.auth!.sign(assemblyId, {
      kind: 'command',
      action,
      requestId,
      epoch: this.epoch,
      service: spec,
      issuedAt: new Date(this.now()).toISOString(),
    });
    let reply: unknown;
    try {
      const r = await this.d.edge.request(AgentAddresses.commands(assemblyId), cmd, {
        // A start may take its whole start timeout (checks included), and then some.
        timeoutMs: Math.max(this.d.commandTimeoutMs ?? 60_000, (spec.startTimeoutMs ?? 0) + 10_000),
      });
      reply = r.body;
      if (this.auth!.check(reply)) return false;
    } catch (e) {
      this.log.warn(
        { assembly: a.name, service: serviceId, action, err: (e as Error).message },
        'agent command failed',
      );
      return false;
    }
    const r = parseAgentEvent(reply);
    if (!r.ok) return false;
    const ev = r.value;
    if (ev.kind === 'command-refused') {
      if (ev.highestEpoch > this.epoch) await this.saveState(); // the CPE says whether we are stale
      return false;
    }
    if (ev.kind !== 'service-status') return false;
    a.services.set(spec.name, { state: ev.state, at: this.now(), reportedAt: Date.parse(ev.at) });
    const ok = action === 'start' ? ev.state === 'running' : ev.state === 'stopped';
    if (ok) {
      await this.publishEvent(action === 'start' ? ServiceStarted.type : ServiceStopped.type, {
        deployableId: this.deployableId,
        assemblyId: this.assemblyIdOf(a),
        assembly: a.name,
        service: serviceId,
        reason: ev.reason,
        epoch: this.epoch,
      });
    } else if (ev.state === 'failed') {
      this.recordServiceFailure(a, spec.name, `${action} failed: ${ev.reason}`, ev.exitCode, ev.cause);
    }
    if (ok && action === 'start') this.serviceFailures.delete(serviceId);
    return ok;
  }

  private async launch(a: AssemblyRt): Promise<void> {
    const asm = this.doc!.assemblies.find((x) => x.name === a.name)!;
    const owner = ownerOf(this.deployableId, a.name, a.incarnation);
    a.launchRequestedAt = this.now();
    const credential = this.auth!.credential(this.assemblyIdOf(a));
    const userData = JSON.stringify({
      assemblyId: this.assemblyIdOf(a),
      deployableId: this.deployableId,
      ...(credential ? { agentSecret: credential } : {}),
      amqp10Url: this.d.agentEdgeUrl,
      heartbeatInterval: `${this.doc!.monitor.heartbeatIntervalMs}ms`,
    });
    await this.d.bus.publish(
      createEvent(
        SERVICE,
        InstanceCreate.type,
        {
          owner,
          idempotencyKey: owner,
          pool: this.doc!.pool,
          ...(this.project ? { project: this.project } : {}),
          image: asm.image,
          hardwareProfile: asm.hardwareProfile,
          name: `${this.doc!.name}-${a.name}-${a.incarnation}`,
          userData,
          metadata: { nephele_deployable: this.deployableId, nephele_assembly: a.name },
          epoch: this.epoch,
        },
        { subject: this.deployableId },
      ),
      { exchange: Topology.commands },
    );
    await this.saveState();
    if (a.incarnation > 1 || this.everRunning) {
      await this.publishEvent(DpeDecision.type, {
        deployableId: this.deployableId,
        epoch: this.epoch,
        action: 'create-assembly',
        assembly: a.name,
        explanation: `launch ${a.name} incarnation ${a.incarnation}`,
      });
    }
  }

  private async destroyInstance(a: AssemblyRt, instanceId: string, reason: string): Promise<void> {
    await this.d.bus.publish(
      createEvent(
        SERVICE,
        InstanceDestroy.type,
        { instanceId, owner: ownerOf(this.deployableId, a.name, a.incarnation), reason, epoch: this.epoch },
        { subject: this.deployableId },
      ),
      { exchange: Topology.commands },
    );
  }

  /** Replaces an assembly's instance: destroy incarnation n, launch n+1. */
  private async replace(a: AssemblyRt, reason: string): Promise<void> {
    if (a.instanceId && a.instanceState !== 'terminated') await this.destroyInstance(a, a.instanceId, reason);
    const next = this.newAssembly(a.name, a.incarnation + 1);
    this.assemblies.set(a.name, next);
    await this.launch(next);
  }

  // ------------------------------------------------------------------ status and persistence

  private settleStatus(plan: DeployablePlan | undefined): void {
    if (this.failedReason) return this.setStatus('failed', this.failedReason);
    const obs = this.observed();
    const enabled = (this.spec?.services ?? []).filter((s) => s.enabled !== false);
    const running = enabled.filter((s) => obs.services[s.id]?.state === 'running').length;
    const allUp = Object.values(obs.assemblies).every((x) => x?.state === 'online');
    if (running === enabled.length && allUp && (plan?.steps.length ?? 0) === 0) {
      this.everRunning = true;
      return this.setStatus('running', `${running} services running on ${this.assemblies.size} assemblies`);
    }
    if (!this.everRunning) return this.setStatus('starting', `${running}/${enabled.length} services running`);
    const unplaced = Object.entries(plan?.placement ?? {})
      .filter(([, v]) => v === null)
      .map(([k]) => k);
    if (this.status === 'recovering' && !unplaced.length) return;
    this.setStatus(
      'degraded',
      unplaced.length
        ? `cannot place ${unplaced.join(', ')}`
        : `${running}/${enabled.length} services running`,
    );
  }

  private setStatus(to: DeployableStatus, reason: string): void {
    if (to === this.status && reason === this.statusReason) return;
    const from = this.status;
    this.status = to;
    this.statusReason = reason;
    if (from !== to) {
      // The snapshot first: it is what the CPE shows (status and assemblies together).
      void this.publishObserved();
      void this.publishEvent(DeployableStatusChanged.type, {
        deployableId: this.deployableId,
        name: this.doc?.name,
        from,
        to,
        reason,
        epoch: this.epoch,
      });
    }
  }

  currentStatus(): { status: DeployableStatus; reason: string } {
    return { status: this.status, reason: this.statusReason };
  }

  private async saveState(): Promise<void> {
    const state: SavedState = {
      incarnations: Object.fromEntries([...this.assemblies.values()].map((a) => [a.name, a.incarnation])),
      history: this.history,
      ...(this.failedReason ? { failedReason: this.failedReason } : {}),
      ...(this.failure ? { failure: this.failure } : {}),
    };
    try {
      const r = await this.d.bus.request<{ ok: boolean; reason?: string }>(
        createEvent(SERVICE, CpeDpeStatePut.type, {
          deployableId: this.deployableId,
          epoch: this.epoch,
          state: state as unknown as Record<string, unknown>,
        }),
        { timeoutMs: 10_000 },
      );
      if (!r.ok) this.halt(r.reason ?? 'the CPE refused our state (stale epoch)');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'saving DPE state failed; will save with the next change');
    }
  }

  async publishObserved(): Promise<void> {
    if (this.stopped || !this.doc) return;
    const now = this.now();
    const obs = this.observed();
    const clock = this.conditionClock;
    const failureOf = (entity: TerminalFailure['entity'], name: string) =>
      this.failure?.entity === entity && this.failure.name === name ? this.failure : undefined;
    await this.publishEvent(DeployableObserved.type, {
      deployableId: this.deployableId,
      epoch: this.epoch,
      version: this.version,
      status: this.status,
      reason: this.statusReason,
      conditions: clock.conditions(
        'deployable',
        deployableCondition(this.status, this.statusReason, this.failure),
        this.failure,
        now,
      ),
      assemblies: [...this.assemblies.values()].map((a) => {
        const state = obs.assemblies[a.name]?.state ?? 'pending';
        const docServices = this.doc!.assemblies.find((x) => x.name === a.name)?.services ?? [];
        // A service stopped here because it moved elsewhere is not shown here any more.
        const seen = [...a.services]
          .filter(
            ([name, s]) =>
              s.state !== 'stopped' || (this.lastPlan?.placement[serviceIdOf(name)] ?? a.name) === a.name,
          )
          .map(([name, s]) => ({ id: serviceIdOf(name), state: s.state as ServiceState | undefined }));
        // Services of this assembly not reported yet are listed too: they say why they wait.
        for (const d of docServices)
          if (!seen.some((x) => x.id === `${a.name}/${d.name}`) && !obs.services[`${a.name}/${d.name}`])
            seen.push({ id: `${a.name}/${d.name}`, state: undefined });
        return {
          name: a.name,
          state,
          assemblyId: this.assemblyIdOf(a),
          ...(a.instanceId ? { instanceId: a.instanceId } : {}),
          addresses: a.addresses,
          ...(a.lastHeartbeat ? { lastHeartbeat: new Date(a.lastHeartbeat).toISOString() } : {}),
          conditions: clock.conditions(
            `assembly:${a.name}`,
            assemblyCondition(
              {
                name: a.name,
                state,
                instanceId: a.instanceId,
                instanceState: a.instanceState,
                heard: a.lastHeartbeat !== undefined,
                failedReason: a.failed?.reason,
                ...(a.launchError
                  ? { launch: { ...a.launchError, attempts: a.launchFailures, retryAt: a.retryAt } }
                  : {}),
              },
              now,
            ),
            failureOf('assembly', a.name),
            now,
          ),
          services: seen.map((x) => ({
            name: x.id,
            state: x.state ?? 'stopped',
            conditions: clock.conditions(
              `service:${x.id}`,
              serviceCondition(
                {
                  id: x.id,
                  state: x.state,
                  assemblyOnline: state === 'online',
                  enabled: serviceDoc(this.doc!, x.id)?.enabled !== false,
                  lastFailure: this.serviceFailures.get(x.id),
                  backoffUntil: this.waiting.get(`service:${x.id}`),
                },
                now,
              ),
              failureOf('service', x.id),
              now,
            ),
          })),
        };
      }),
    }).catch(() => undefined);
  }

  private async publishEvent(type: string, data: object): Promise<void> {
    try {
      await this.d.bus.publish(
        createEvent(SERVICE, type, data, { subject: this.deployableId, project: this.project }),
      );
    } catch (e) {
      this.log.warn({ err: (e as Error).message, type }, 'publishing an event failed');
    }
  }
}
