import {
  createEvent,
  DeployableObserved,
  DeployableStatus,
  DeployableStatusChanged,
  DpeDecision,
  ServiceState,
  GroupDoc,
  CloneDoc,
} from '@nephele/contracts';
import { DeployableObservedState, DeployablePlan } from '@nephele/policy';
import { assemblyCondition, ConditionClock, deployableCondition, serviceCondition } from './conditions';
import { AssemblyRt, DpeContext, SERVICE, serviceIdOf } from './dpe.types';
import { DeployableState } from './observed-state';
import { TerminalFailure } from './recovery-budget';
import { serviceDoc } from './spec.mapping';

/**
 * What the DPE tells the world: events, its decisions, the deployable's status (with its
 * transitions) and the periodic observed snapshot the CPE shows.
 */
export class DpeReporter {
  private readonly conditionClock = new ConditionClock();

  constructor(
    private readonly ctx: DpeContext,
    private readonly state: DeployableState,
  ) {}

  async publishEvent(type: string, data: object): Promise<void> {
    try {
      await this.ctx.d.bus.publish(
        createEvent(SERVICE, type, data, { subject: this.ctx.deployableId, project: this.state.project }),
      );
    } catch (e) {
      this.ctx.log.warn({ err: (e as Error).message, type }, 'publishing an event failed');
    }
  }

  /** A `nephele.dpe.decision` event (the epoch and deployable filled in). */
  decision(d: { action: string; explanation: string; [k: string]: unknown }): Promise<void> {
    return this.publishEvent(DpeDecision.type, {
      deployableId: this.ctx.deployableId,
      epoch: this.ctx.epoch,
      ...d,
    });
  }

  /** A budget is spent or the failure is hard: the deployable is failed until the user acts. */
  fail(f: TerminalFailure): void {
    const s = this.state;
    if (s.failedReason) return;
    // Messages travel in events whose reasons are at most 2000 characters.
    f = { ...f, message: f.message.length > 1500 ? `${f.message.slice(0, 1497)}...` : f.message };
    s.failure = f;
    s.failedReason = f.message;
    void this.ctx.persist();
    void this.decision({
      action: 'mark-failed',
      rung: 'mark-failed',
      ...(f.entity === 'service' ? { service: f.name } : f.entity === 'assembly' ? { assembly: f.name } : {}),
      explanation: `${f.reason}: ${f.message}`,
    });
    this.setStatus('failed', f.message);
  }

  /** The status a finished pass leaves the deployable in. */
  settleStatus(plan: DeployablePlan | undefined): void {
    const s = this.state;
    if (s.failedReason) return this.setStatus('failed', s.failedReason);
    const obs = s.observed(this.ctx.now());
    const enabled = (s.spec?.services ?? []).filter((x) => x.enabled !== false);
    const running = enabled.filter((x) => obs.services[x.id]?.state === 'running').length;
    const allUp = Object.values(obs.assemblies).every((x) => x?.state === 'online');
    if (running === enabled.length && allUp && (plan?.steps.length ?? 0) === 0) {
      s.everRunning = true;
      return this.setStatus('running', `${running} services running on ${s.assemblies.size} assemblies`);
    }
    if (!s.everRunning) return this.setStatus('starting', `${running}/${enabled.length} services running`);
    const unplaced = Object.entries(plan?.placement ?? {})
      .filter(([, v]) => v === null)
      .map(([k]) => k);
    if (s.status === 'recovering' && !unplaced.length) return;
    this.setStatus(
      'degraded',
      unplaced.length
        ? `cannot place ${unplaced.join(', ')}`
        : `${running}/${enabled.length} services running`,
    );
  }

  setStatus(to: DeployableStatus, reason: string): void {
    const s = this.state;
    if (to === s.status && reason === s.statusReason) return;
    const from = s.status;
    s.status = to;
    s.statusReason = reason;
    if (from !== to) {
      // The snapshot first: it is what the CPE shows (status and assemblies together).
      void this.publishObserved();
      void this.publishEvent(DeployableStatusChanged.type, {
        deployableId: this.ctx.deployableId,
        name: s.doc?.name,
        from,
        to,
        reason,
        epoch: this.ctx.epoch,
      });
    }
  }

  /** The snapshot the CPE shows: status, assemblies, services, each with its conditions. */
  async publishObserved(): Promise<void> {
    const s = this.state;
    if (this.ctx.isStopped() || !s.doc) return;
    const now = this.ctx.now();
    const obs = s.observed(now);
    await this.publishEvent(DeployableObserved.type, {
      deployableId: this.ctx.deployableId,
      epoch: this.ctx.epoch,
      version: s.version,
      status: s.status,
      reason: s.statusReason,
      conditions: this.conditionClock.conditions(
        'deployable',
        deployableCondition(s.status, s.statusReason, s.failure),
        s.failure,
        now,
      ),
      assemblies: [...s.assemblies.values()].map((a) => this.assemblySnapshot(a, obs, now)),
    }).catch(() => undefined);
  }

  private failureOf(entity: TerminalFailure['entity'], name: string): TerminalFailure | undefined {
    const f = this.state.failure;
    return f?.entity === entity && f.name === name ? f : undefined;
  }

  /** The services shown under an assembly, with the state each was last reported in. */
  private shownServices(a: AssemblyRt, obs: DeployableObservedState): { id: string; state?: ServiceState }[] {
    const s = this.state;
    const docServices = s.doc!.assemblies.find((x) => x.name === a.name)?.services ?? [];
    // A service stopped here because it moved elsewhere, or because the configuration no longer has
    // it (Note [Removed services]), is not shown here any more.
    const seen = [...a.services]
      .filter(
        ([name, x]) =>
          x.state !== 'stopped' ||
          (!s.retired.has(serviceIdOf(name)) &&
            (s.lastPlan?.placement[serviceIdOf(name)] ?? a.name) === a.name),
      )
      .map(([name, x]) => ({ id: serviceIdOf(name), state: x.state as ServiceState | undefined }));
    // Services of this assembly not reported yet are listed too: they say why they wait.
    for (const d of docServices)
      if (!seen.some((x) => x.id === `${a.name}/${d.name}`) && !obs.services[`${a.name}/${d.name}`])
        seen.push({ id: `${a.name}/${d.name}`, state: undefined });
    return seen;
  }

  private assemblySnapshot(a: AssemblyRt, obs: DeployableObservedState, now: number) {
    const s = this.state;
    const clock = this.conditionClock;
    const state = obs.assemblies[a.name]?.state ?? 'pending';
    const condition = assemblyCondition(
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
    );
    return {
      name: a.name,
      state,
      assemblyId: s.assemblyIdOf(a),
      ...(a.instanceId ? { instanceId: a.instanceId } : {}),
      addresses: a.addresses,
      ...(a.lastHeartbeat ? { lastHeartbeat: new Date(a.lastHeartbeat).toISOString() } : {}),
      conditions: clock.conditions(`assembly:${a.name}`, condition, this.failureOf('assembly', a.name), now),
      services: this.shownServices(a, obs).map((x) => ({
        name: x.id,
        state: x.state ?? 'stopped',
        ...groupField(s.doc!.groups, x.id),
        ...cloneField(s.doc!.clones, x.id),
        conditions: clock.conditions(
          `service:${x.id}`,
          serviceCondition(
            {
              id: x.id,
              state: x.state,
              assemblyOnline: state === 'online',
              enabled: serviceDoc(s.doc!, x.id)?.enabled !== false,
              lastFailure: s.serviceFailures.get(x.id),
              backoffUntil: s.waiting.get(`service:${x.id}`),
            },
            now,
          ),
          this.failureOf('service', x.id),
          now,
        ),
      })),
    };
  }
}

/** `{group}` when the service is in one of the deployable's groups (shown with its status). */
function groupField(groups: readonly GroupDoc[] | undefined, serviceId: string): { group?: string } {
  const g = groups?.find((x) => x.services.includes(serviceId));
  return g ? { group: g.name } : {};
}

/** `{clone}` when the service is an instance of one of the deployable's clones (its assembly is the row's). */
function cloneField(clones: readonly CloneDoc[] | undefined, serviceId: string): { clone?: string } {
  const c = clones?.find((x) => x.assemblies.some((a) => `${a}/${x.service}` === serviceId));
  return c ? { clone: c.name } : {};
}
