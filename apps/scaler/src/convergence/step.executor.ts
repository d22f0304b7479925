import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { enqueueEvents } from '@nephele/bus';
import {
  createEvent,
  InstanceActionData,
  InstanceCreate,
  InstanceCreateData,
  InstanceDestroy,
  Topology,
} from '@nephele/contracts';
import { DriverError } from '@nephele/drivers';
import { lbKey, LoadBalancerRef, Step, StepOutcome, StepResult } from '@nephele/scaling';
import { ScalerConfig } from '../config/env';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { GroupRow } from '../state/group.types';
import { SCALER_CONFIG } from '../scaler.tokens';
import { LoadBalancerRegistry } from './lb.registry';
import { publishHookEvent } from './lifecycle.events';
import { HookWaitRow, ServersRepository } from '../state/servers.repository';

export interface PassContext {
  group: GroupRow;
  now: Date;
  /** Set when launches are suspended (too many launch failures): why. */
  launchBlocked?: string;
}

export const groupOwner = (groupId: string) => `group:${groupId}`;
export const serverKey = (groupId: string, serverId: string) => `group:${groupId}:server:${serverId}`;

/**
 * Carries out the planner's steps. Steps that change the server table and send commands do both
 * in one transaction (outbox); load-balancer steps call the driver, then record the membership.
 */
@Injectable()
export class StepExecutor {
  constructor(
    private readonly servers: ServersRepository,
    private readonly lbs: LoadBalancerRegistry,
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
  ) {}

  async run(ctx: PassContext, step: Step): Promise<StepResult> {
    try {
      switch (step.kind) {
        case 'create-server':
          if (ctx.launchBlocked) return { step, outcome: 'failure', reason: ctx.launchBlocked };
          await this.servers.transaction((tx) => this.create(tx, ctx));
          return { step, outcome: 'success' };
        case 'delete-server':
          await this.servers.transaction((tx) => this.delete(tx, ctx, step.serverId, step.reason));
          return { step, outcome: 'success' };
        case 'replace-server':
          await this.servers.transaction(async (tx) => {
            await this.delete(tx, ctx, step.serverId, step.reason);
            if (!ctx.launchBlocked) await this.create(tx, ctx);
          });
          return ctx.launchBlocked
            ? { step, outcome: 'failure', reason: ctx.launchBlocked }
            : { step, outcome: 'success' };
        case 'add-to-lb':
          return await this.addToLb(step, step.serverId, step.lb);
        case 'drain':
          return await this.drain(step, ctx, step.serverId, step.lb);
        case 'remove-from-lb':
          return await this.removeFromLb(step, step.serverId, step.lb);
      }
    } catch (e) {
      return { step, outcome: outcomeOf(e), reason: (e as Error).message };
    }
  }

  private async create(tx: EntityManager, ctx: PassContext): Promise<void> {
    const g = ctx.group;
    const l = g.launch_config;
    const id = randomUUID();
    const key = serverKey(g.id, id);
    await this.servers.insert(tx, {
      id,
      groupId: g.id,
      key,
      createdAt: ctx.now,
      launchVersion: g.launch_version,
    });
    const data: InstanceCreateData = {
      owner: groupOwner(g.id),
      idempotencyKey: key,
      pool: l.pool ?? this.config.defaultPool,
      image: l.image,
      hardwareProfile: l.hardwareProfile,
      name: `${g.name.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${id.slice(0, 8)}`,
      metadata: { ...(l.metadata ?? {}), 'nephele-group': g.id, 'nephele-server': id },
    };
    if (g.project) data.project = g.project;
    if (l.userData !== undefined) data.userData = l.userData;
    await enqueueEvents(
      tx,
      SCALER_SCHEMA,
      [createEvent(SERVICE, InstanceCreate.type, data, { subject: id })],
      Topology.commands,
    );
  }

  /** Deletes a server: destroys its instance, or (no instance yet) waits for the launch result. */
  async delete(tx: EntityManager, ctx: PassContext, serverId: string, reason: string): Promise<void> {
    const s = await this.servers.lock(tx, serverId);
    if (!s || s.state === 'deleting' || s.lifecycle === 'TERMINATING:WAIT') return;
    // A terminating hook holds the server before it is deleted (Note [Hook execution]).
    const hook = (ctx.group.lifecycle_hooks ?? []).find((h) => h.kind === 'terminating');
    if (hook && !ctx.group.deleting && s.instance_id && s.lifecycle !== 'TERMINATING:PROCEED') {
      const wait: HookWaitRow = {
        hook: hook.name,
        kind: 'terminating',
        startedAt: ctx.now.toISOString(),
        reason: reason.slice(0, 1000),
      };
      await this.servers.update(tx, s.id, { lifecycle: 'TERMINATING:WAIT', hook_wait: wait, reason });
      await publishHookEvent(tx, ctx.group, s.id, wait, ctx.now, 'waiting');
      return;
    }
    if (s.instance_id) {
      await this.servers.update(tx, s.id, { state: 'deleting', reason, destroy_sent_at: ctx.now });
      await this.sendDestroy(tx, ctx.group.id, s.instance_id, reason);
    } else if (s.state === 'error') {
      // The launch failed: there is nothing to destroy.
      await this.servers.remove(tx, s.id);
    } else {
      // Launch in flight: its result destroys it (servers.service.ts).
      await this.servers.update(tx, s.id, { state: 'deleting', reason });
    }
  }

  async sendDestroy(tx: EntityManager, groupId: string, instanceId: string, reason: string): Promise<void> {
    const data: InstanceActionData = {
      instanceId,
      owner: groupOwner(groupId),
      reason: reason.slice(0, 1000),
    };
    await enqueueEvents(
      tx,
      SCALER_SCHEMA,
      [createEvent(SERVICE, InstanceDestroy.type, data, { subject: instanceId })],
      Topology.commands,
    );
  }

  private balancer(lb: LoadBalancerRef) {
    const b = this.lbs.get(lb.id);
    if (!b) throw new StepError('failure', `load balancer ${lb.id} is not configured on this scaler`);
    const backend = lb.backend ?? b.defaultBackend;
    if (!backend) throw new StepError('failure', `load balancer ${lb.id}: no backend given and no default`);
    return { driver: b.driver, backend };
  }

  private async addToLb(step: Step, serverId: string, lb: LoadBalancerRef): Promise<StepResult> {
    const s = await this.servers.get(serverId);
    // A server held by a launching hook joins nothing yet (Note [Hook execution]).
    if (!s || s.state !== 'active' || s.lifecycle !== 'in-service') return { step, outcome: 'success' };
    const address = s.addresses[0];
    if (!address) return { step, outcome: 'limited-retry', reason: `server ${serverId} has no address yet` };
    const { driver, backend } = this.balancer(lb);
    await driver.addMember(backend, { name: serverId, address, port: lb.port });
    await this.setMembership(serverId, lb, true);
    return { step, outcome: 'success' };
  }

  private async drain(
    step: Step,
    ctx: PassContext,
    serverId: string,
    lb: LoadBalancerRef,
  ): Promise<StepResult> {
    const { driver, backend } = this.balancer(lb);
    try {
      await driver.drainMember(backend, serverId, { timeoutMs: 0 });
    } catch (e) {
      if (!(e instanceof DriverError && e.kind === 'not-found')) throw e;
      await this.setMembership(serverId, lb, false);
    }
    await this.servers.markDraining(serverId, ctx.now);
    return { step, outcome: 'success' };
  }

  private async removeFromLb(step: Step, serverId: string, lb: LoadBalancerRef): Promise<StepResult> {
    const { driver, backend } = this.balancer(lb);
    try {
      await driver.removeMember(backend, serverId, { timeoutMs: 0 });
    } catch (e) {
      if (!(e instanceof DriverError && e.kind === 'not-found')) throw e;
    }
    await this.setMembership(serverId, lb, false);
    return { step, outcome: 'success' };
  }

  private async setMembership(serverId: string, lb: LoadBalancerRef, member: boolean): Promise<void> {
    await this.servers.transaction(async (tx) => {
      const s = await this.servers.lock(tx, serverId);
      if (!s) return;
      const others = s.lb_memberships.filter((m) => lbKey(m) !== lbKey(lb));
      const ref: LoadBalancerRef = {
        id: lb.id,
        port: lb.port,
        ...(lb.backend ? { backend: lb.backend } : {}),
      };
      await this.servers.update(tx, serverId, { lb_memberships: member ? [...others, ref] : others });
    });
  }
}

/** A step failure whose outcome is known. */
export class StepError extends Error {
  constructor(
    readonly outcome: StepOutcome,
    message: string,
  ) {
    super(message);
  }
}

function outcomeOf(e: unknown): StepOutcome {
  if (e instanceof StepError) return e.outcome;
  if (e instanceof DriverError) return e.retryable ? 'retry' : 'limited-retry';
  return 'retry';
}
