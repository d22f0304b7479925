import { Inject, Injectable } from '@nestjs/common';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { Candidate, CandidateDecision } from '@nephele/broker';
import {
  CloudEvent,
  createEvent,
  LaunchFailed,
  LaunchResultData,
  LaunchSucceeded,
  SelectionDecided,
} from '@nephele/contracts';
import { ProviderInstance } from '@nephele/drivers';
import { counter } from '@nephele/observability';
import { AuditedChange, enqueueAudit, METRICS, Principal } from '@nephele/service-kit';
import { Registry } from 'prom-client';
import { GATEWAY_SCHEMA } from '../data-source';
import { GATEWAY_OUTBOX, SERVICE } from '../gateway.tokens';
import { LaunchTarget } from '../selection/launch-selection';
import { AttemptRow, LaunchesRepository } from './launches.repository';
import { LaunchContext, LaunchOutcome } from './launch.types';

/**
 * A launch's outcomes, written with its attempt row and published through the outbox in one
 * transaction: selection decisions, launched, failed.
 */
@Injectable()
export class LaunchOutcomePublisher {
  private readonly launches;

  constructor(
    private readonly repo: LaunchesRepository,
    @Inject(GATEWAY_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.launches = counter(metrics, 'nephele_gateway_launches_total', 'Launch commands by result', [
      'result',
    ]);
  }

  async publish(events: CloudEvent[]): Promise<void> {
    await this.repo.transaction((tx) => enqueueEvents(tx, GATEWAY_SCHEMA, events));
    this.outbox.nudge();
  }

  /** Records who asked for a change through the API (`nephele.audit.*`, through the outbox). */
  async audit(p: Principal, change: AuditedChange): Promise<void> {
    await this.repo.transaction((tx) => enqueueAudit(tx, GATEWAY_SCHEMA, SERVICE, p, change));
    this.outbox.nudge();
  }

  /** A command from a stale epoch: refused before anything, its attempt row untouched. */
  async refused(ctx: LaunchContext, reason: string): Promise<LaunchOutcome> {
    await this.publish([this.event(ctx, LaunchFailed.type, { ...ctx.base, reason })]);
    return { ok: false, instanceId: ctx.instanceId, reason };
  }

  /** Which candidate the attempt tries, among which (or none). */
  decided(
    ctx: LaunchContext,
    pool: string,
    candidates: CandidateDecision[],
    attempt: number,
    chosen: Candidate | undefined,
    reason: string,
  ): Promise<void> {
    const { d } = ctx;
    return this.publish([
      this.event(ctx, SelectionDecided.type, {
        idempotencyKey: d.idempotencyKey,
        owner: d.owner,
        pool,
        candidates,
        chosen: chosen?.account.id,
        attempt,
        reason,
      }),
    ]);
  }

  async failed(ctx: LaunchContext, reason: string, extra: Partial<AttemptRow> = {}): Promise<LaunchOutcome> {
    this.launches.inc({ result: 'failed' });
    await this.repo.transaction(async (tx) => {
      await this.repo.finish(tx, ctx.d.idempotencyKey, { status: 'failed', reason, ...extra });
      await enqueueEvents(tx, GATEWAY_SCHEMA, [
        this.event(ctx, LaunchFailed.type, { ...ctx.base, reason, pool: ctx.d.pool }),
      ]);
    });
    this.outbox.nudge();
    return { ok: false, instanceId: ctx.instanceId, reason };
  }

  async launched(
    ctx: LaunchContext,
    target: LaunchTarget,
    c: Candidate,
    inst: ProviderInstance,
  ): Promise<LaunchOutcome> {
    this.launches.inc({ result: 'launched' });
    const { pool, image, hardwareProfile: hw } = target;
    const result: LaunchResultData = {
      ...ctx.base,
      providerAccountId: c.account.id,
      providerInstanceId: inst.id,
      pool: pool.id,
      project: pool.project,
      image: image.id,
      hardwareProfile: hw.id,
      name: inst.name,
      addresses: inst.addresses,
      state: inst.state,
      reason: `launched on ${c.account.name} (${c.profile.name})`,
    };
    await this.repo.transaction(async (tx) => {
      await this.repo.finish(tx, ctx.d.idempotencyKey, {
        status: 'launched',
        pool_id: pool.id,
        family_id: pool.familyId,
        account_id: c.account.id,
        provider_instance_id: inst.id,
        image_id: image.id,
        hardware_profile_id: hw.id,
        cores: c.profile.cpu,
        memory_mb: c.profile.memoryMb,
        reason: result.reason!,
      });
      await enqueueEvents(tx, GATEWAY_SCHEMA, [this.event(ctx, LaunchSucceeded.type, result)]);
    });
    this.outbox.nudge();
    return {
      ok: true,
      instanceId: ctx.instanceId,
      providerInstanceId: inst.id,
      providerAccountId: c.account.id,
    };
  }

  private event(ctx: LaunchContext, type: string, data: object): CloudEvent {
    return createEvent(SERVICE, type, data, { subject: ctx.instanceId, project: ctx.d.project });
  }
}
