import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { markProcessed, OutboxRelay } from '@nephele/bus';
import {
  CloudEvent,
  InstanceActionCompletedData,
  InstanceState,
  InstanceStateChangedData,
  InstanceVanishedData,
  LaunchResultData,
} from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { CLOCK, Clock, LOGGER } from '@nephele/service-kit';
import { SCALER_SCHEMA } from '../data-source';
import { GroupsRepository } from '../state/groups.repository';
import { SCALER_OUTBOX } from '../scaler.tokens';
import { ConvergeSignal } from '../state/converge.signal';
import { ServerRow, ServersRepository } from '../state/servers.repository';
import { StepExecutor } from './step.executor';

// Note [Server events]
// The scaler's server table is its truth for convergence; gateway and tracker events move it:
//   launch_succeeded  building → active (provider says running) or stays building; a server the
//                     scaler already gave up (deleting) is destroyed now.
//   launch_failed     → error (the planner replaces it); counts towards suspending launches.
//   state_changed     running → active; error/stopped/stopping → error; terminated → gone.
//   action_completed  destroy done → the row goes.
// Each handler runs in one transaction with markProcessed (at-least-once delivery) and asks for a
// convergence pass. Events can arrive out of order across producers: the tracker's version
// number orders state changes of one instance, and a terminal row state (deleting) is never
// revived by a late `running`. A tracker event that overtakes the launch result (the instance id
// is not known yet) is parked in `early_states` and applied when the launch result arrives.

export type ApplyResult = 'applied' | 'ignored';

@Injectable()
export class ServersService {
  constructor(
    private readonly servers: ServersRepository,
    private readonly groups: GroupsRepository,
    private readonly executor: StepExecutor,
    private readonly signal: ConvergeSignal,
    @Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {}

  private async commit(
    consumer: string,
    event: CloudEvent,
    fn: (tx: EntityManager) => Promise<{ result: ApplyResult; groupId?: string; publish?: boolean }>,
  ): Promise<ApplyResult> {
    const owner = (event.data as { owner?: string } | undefined)?.owner;
    const gid = /^group:([0-9a-f-]{36})$/i.exec(owner ?? '')?.[1];
    const out = await this.servers.transaction(async (tx) => {
      // Events about one group's servers are applied one at a time (the group row is the lock):
      // a state change racing its own launch result would otherwise be parked after the launch
      // result looked for it.
      if (gid) await this.groups.lockGroupRow(tx, gid);
      if (!(await markProcessed(tx, SCALER_SCHEMA, consumer, event))) return { result: 'ignored' as const };
      const r = await fn(tx);
      if (r.groupId) await this.groups.requestConverge(tx, r.groupId);
      return r;
    });
    if (out.publish) this.outbox.nudge();
    if (out.groupId) this.signal.nudge();
    return out.result;
  }

  launchSucceeded(e: CloudEvent<LaunchResultData>): Promise<ApplyResult> {
    const d = e.data!;
    return this.commit('launch-results', e, async (tx) => {
      const s = await this.servers.lockByKey(tx, d.idempotencyKey);
      if (!s) return { result: 'ignored' };
      const set: Parameters<ServersRepository['update']>[2] = {
        instance_id: d.instanceId,
        addresses: d.addresses ?? s.addresses,
      };
      let publish = false;
      if (s.state === 'deleting') {
        set.destroy_sent_at = this.clock.now();
        await this.executor.sendDestroy(tx, s.group_id, d.instanceId, s.reason ?? 'no longer needed');
        publish = true;
      } else if (s.state === 'building') {
        const next = toServerState(d.state);
        if (next === 'active') Object.assign(set, { state: 'active', active_at: this.clock.now() });
        if (next === 'error') Object.assign(set, { state: 'error', reason: `launched in state ${d.state}` });
      }
      await this.servers.update(tx, s.id, set);
      if (set.state === 'active') await this.resetLaunchFailures(tx, s.group_id);
      const early = await this.servers.takeEarlyState(tx, d.instanceId);
      if (early) {
        const now = await this.servers.lock(tx, s.id);
        if (now) await this.observe(tx, now, early.state, early.reason, early.addresses ?? undefined);
      }
      return { result: 'applied', groupId: s.group_id, publish };
    });
  }

  launchFailed(e: CloudEvent<LaunchResultData>): Promise<ApplyResult> {
    const d = e.data!;
    return this.commit('launch-results', e, async (tx) => {
      const s = await this.servers.lockByKey(tx, d.idempotencyKey);
      if (!s) return { result: 'ignored' };
      if (s.state === 'deleting') await this.servers.remove(tx, s.id);
      else {
        await this.servers.update(tx, s.id, {
          state: 'error',
          reason: `launch failed: ${d.reason ?? 'unknown'}`,
        });
        await this.groups.recordLaunchFailure(tx, s.group_id, d.reason ?? 'unknown');
      }
      return { result: 'applied', groupId: s.group_id };
    });
  }

  stateChanged(e: CloudEvent<InstanceStateChangedData>): Promise<ApplyResult> {
    const d = e.data!;
    return this.commit('instance-states', e, async (tx) => {
      const s = await this.servers.lockByInstance(tx, d.instanceId);
      if (!s) {
        if (!(await this.mayBeEarly(tx, d.owner))) return { result: 'ignored' };
        await this.servers.parkEarlyState(tx, d);
        return { result: 'applied' };
      }
      if (d.version !== undefined && d.version <= s.instance_version) return { result: 'ignored' };
      await this.observe(tx, s, d.to, d.reason, d.addresses);
      if (d.version !== undefined) await this.servers.update(tx, s.id, { instance_version: d.version });
      return { result: 'applied', groupId: s.group_id };
    });
  }

  vanished(e: CloudEvent<InstanceVanishedData>): Promise<ApplyResult> {
    const d = e.data!;
    return this.commit('instance-states', e, async (tx) => {
      const s = await this.servers.lockByInstance(tx, d.instanceId);
      if (!s) return { result: 'ignored' };
      await this.observe(tx, s, 'terminated', 'vanished at the provider');
      return { result: 'applied', groupId: s.group_id };
    });
  }

  actionCompleted(e: CloudEvent<InstanceActionCompletedData>): Promise<ApplyResult> {
    const d = e.data!;
    return this.commit('action-results', e, async (tx) => {
      if (d.action !== 'destroy') return { result: 'ignored' };
      const s = await this.servers.lockByInstance(tx, d.instanceId);
      if (!s) return { result: 'ignored' };
      if (d.ok || /unknown instance/.test(d.reason)) {
        await this.removeOrFlag(tx, s, `destroyed: ${d.reason}`);
      } else {
        this.log.warn(
          { serverId: s.id, instanceId: d.instanceId, reason: d.reason },
          'destroy failed; will retry',
        );
      }
      return { result: 'applied', groupId: s.group_id };
    });
  }

  /** Applies an observed instance state to a server row. */
  private async observe(
    tx: EntityManager,
    s: ServerRow,
    to: InstanceState,
    reason: string,
    addresses?: string[],
  ): Promise<void> {
    const addr = addresses && addresses.length ? { addresses } : {};
    if (to === 'terminated') return this.removeOrFlag(tx, s, reason);
    if (s.state === 'deleting') return;
    const next = toServerState(to);
    if (next === 'active' && (s.state === 'building' || s.state === 'error')) {
      await this.servers.update(tx, s.id, { state: 'active', active_at: this.clock.now(), reason, ...addr });
      await this.resetLaunchFailures(tx, s.group_id);
    } else if (next === 'error' && s.state !== 'error') {
      await this.servers.update(tx, s.id, { state: 'error', reason: `instance ${to}: ${reason}`, ...addr });
    } else if (addresses && addresses.length) {
      await this.servers.update(tx, s.id, addr);
    }
  }

  /**
   * A server whose instance is gone leaves the table, unless it is still a member of a balancer:
   * then it is flagged broken so that the planner takes it out of the balancers first.
   */
  private async removeOrFlag(tx: EntityManager, s: ServerRow, reason: string): Promise<void> {
    if (s.lb_memberships.length === 0) return this.servers.remove(tx, s.id);
    await this.servers.update(tx, s.id, { state: 'error', reason, evicted: `instance gone: ${reason}` });
  }

  private async resetLaunchFailures(tx: EntityManager, groupId: string): Promise<void> {
    await this.groups.resetLaunchFailures(tx, groupId);
  }

  /** A tracker event can overtake the gateway's launch result while a launch of the group is pending. */
  private async mayBeEarly(tx: EntityManager, owner: string | undefined): Promise<boolean> {
    const m = /^group:([0-9a-f-]{36})$/i.exec(owner ?? '');
    return m ? this.servers.hasPendingLaunch(tx, m[1]!) : false;
  }
}

/** What an instance state means for a group server (undefined: no change). */
export function toServerState(s: InstanceState | undefined): 'active' | 'error' | undefined {
  switch (s) {
    case 'running':
      return 'active';
    case 'error':
    case 'stopped':
    case 'stopping':
    case 'terminating':
      return 'error';
    case 'pending':
    case 'rebooting':
    case 'terminated':
    case undefined:
      return undefined;
  }
}
