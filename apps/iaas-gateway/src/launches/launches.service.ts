import { Injectable } from '@nestjs/common';
import {
  CloudEvent,
  createEvent,
  InstanceAction,
  InstanceActionCompleted,
  InstanceActionCompletedData,
  InstanceActionData,
  InstanceCreateData,
  LaunchFailed,
  LaunchResultData,
  LaunchSucceeded,
} from '@nephele/contracts';
import { DriverError } from '@nephele/drivers';
import { AuditedChange, Principal } from '@nephele/service-kit';
import { nameUuid } from '@nephele/util';
import { DriverPoolService } from '../drivers/driver-pool.service';
import { SERVICE } from '../gateway.tokens';
import { EpochFence } from './epoch.fence';
import { LaunchFallbackExecutor } from './launch-fallback.executor';
import { LaunchOutcomePublisher } from './launch-outcome.publisher';
import { LaunchRequestResolver } from './launch-request.resolver';
import { LaunchContext, LaunchOutcome } from './launch.types';
import { AttemptRow, LaunchesRepository } from './launches.repository';

const INSTANCE_NS = 'nephele:instance';

export { ownerKey } from './launch.types';
export type { LaunchOutcome } from './launch.types';

// Note [Launch idempotency]
// An instance's id is derived from its idempotency key, and every driver refuses to make a second
// instance for a key. A command delivered twice, or retried after a crash half-way, therefore finds
// the same attempt row and the same provider instance: the result is published again and nothing
// new is launched. A stale DPE epoch (see Note [Fencing] in the CPE) is refused before anything.
//
// A launch: fenced (EpochFence) → replayed if finished → resolved and its candidates selected
// (LaunchRequestResolver over the pure selection/) → tried in order (LaunchFallbackExecutor) → its
// outcome recorded and published (LaunchOutcomePublisher).
@Injectable()
export class LaunchesService {
  constructor(
    private readonly repo: LaunchesRepository,
    private readonly drivers: DriverPoolService,
    private readonly fence: EpochFence,
    private readonly resolver: LaunchRequestResolver,
    private readonly fallback: LaunchFallbackExecutor,
    private readonly outcomes: LaunchOutcomePublisher,
  ) {}

  /** Records who asked for a change through the API (`nephele.audit.*`, through the outbox). */
  audit(p: Principal, change: AuditedChange): Promise<void> {
    return this.outcomes.audit(p, change);
  }

  private publish(events: CloudEvent[]): Promise<void> {
    return this.outcomes.publish(events);
  }

  /** Refuses a command from an older epoch than the owner's current one. */
  fenced(owner: string, epoch: number | undefined): Promise<string | undefined> {
    return this.fence.check(owner, epoch);
  }

  async create(d: InstanceCreateData): Promise<LaunchOutcome> {
    const instanceId = nameUuid(INSTANCE_NS, d.idempotencyKey);
    const base: LaunchResultData = {
      instanceId,
      owner: d.owner,
      idempotencyKey: d.idempotencyKey,
      epoch: d.epoch,
    };
    const ctx: LaunchContext = { d, instanceId, base };
    const stale = await this.fence.check(d.owner, d.epoch);
    if (stale) return this.outcomes.refused(ctx, stale);
    const existing = await this.repo.byKey(d.idempotencyKey);
    if (existing && existing.status !== 'launching') return this.replay(existing);
    await this.repo.begin({
      idempotency_key: d.idempotencyKey,
      instance_id: instanceId,
      owner: d.owner,
      project: d.project ?? null,
      epoch: d.epoch ?? null,
      name: d.name ?? null,
    });
    const r = await this.resolver.resolve(d);
    if ('error' in r) return this.outcomes.failed(ctx, r.error);
    const { target, selection } = r;
    if (selection.none) {
      await this.outcomes.decided(
        ctx,
        target.pool.id,
        selection.decisions,
        0,
        undefined,
        'no candidate account',
      );
      return this.outcomes.failed(ctx, selection.none, {
        pool_id: target.pool.id,
        family_id: target.pool.familyId,
      });
    }
    return this.fallback.run(ctx, target, selection);
  }

  /** A repeated command for a finished launch: publish its result again, launch nothing. */
  private async replay(a: AttemptRow): Promise<LaunchOutcome> {
    const base: LaunchResultData = {
      instanceId: a.instance_id,
      owner: a.owner,
      idempotencyKey: a.idempotency_key,
    };
    if (a.status === 'failed') {
      await this.publish([
        createEvent(
          SERVICE,
          LaunchFailed.type,
          { ...base, reason: a.reason ?? 'failed' },
          { subject: a.instance_id, project: a.project },
        ),
      ]);
      return { ok: false, instanceId: a.instance_id, reason: a.reason ?? 'failed' };
    }
    const driver = await this.drivers.forAccount(a.account_id!);
    const inst = await driver.get(a.provider_instance_id!).catch(() => null);
    await this.publish([
      createEvent(
        SERVICE,
        LaunchSucceeded.type,
        {
          ...base,
          providerAccountId: a.account_id ?? undefined,
          providerInstanceId: a.provider_instance_id ?? undefined,
          pool: a.pool_id ?? undefined,
          project: a.project ?? undefined,
          image: a.image_id ?? undefined,
          hardwareProfile: a.hardware_profile_id ?? undefined,
          addresses: inst?.addresses,
          state: inst?.state ?? (a.status === 'destroyed' ? 'terminated' : undefined),
          reason: 'already launched (repeated command)',
        },
        { subject: a.instance_id, project: a.project },
      ),
    ]);
    return {
      ok: true,
      instanceId: a.instance_id,
      providerInstanceId: a.provider_instance_id!,
      providerAccountId: a.account_id!,
    };
  }

  async act(action: InstanceAction, d: InstanceActionData): Promise<InstanceActionCompletedData> {
    const result = (
      ok: boolean,
      reason: string,
      extra: Partial<InstanceActionCompletedData> = {},
    ): InstanceActionCompletedData => ({
      instanceId: d.instanceId,
      action,
      ok,
      reason,
      owner: d.owner,
      epoch: d.epoch,
      ...extra,
    });
    let out: InstanceActionCompletedData;
    const stale = await this.fenced(d.owner, d.epoch);
    const a = stale ? undefined : await this.repo.byInstance(d.instanceId);
    if (stale) out = result(false, stale);
    else if (!a || !a.account_id || !a.provider_instance_id)
      out = result(false, `unknown instance ${d.instanceId}`);
    else if (a.status === 'destroyed' && action === 'destroy') {
      out = result(true, 'already destroyed', {
        state: 'terminated',
        providerAccountId: a.account_id,
        providerInstanceId: a.provider_instance_id,
      });
    } else {
      const driver = await this.drivers.forAccount(a.account_id);
      const ids = { providerAccountId: a.account_id, providerInstanceId: a.provider_instance_id };
      try {
        await driver[action](a.provider_instance_id);
        const now = await driver.get(a.provider_instance_id).catch(() => null);
        out = result(true, d.reason ?? `${action} accepted by the provider`, {
          ...ids,
          state: now ? now.state : action === 'destroy' ? 'terminated' : undefined,
        });
      } catch (e) {
        if (e instanceof DriverError && e.kind === 'not-found' && action === 'destroy') {
          out = result(true, 'already gone at the provider', { ...ids, state: 'terminated' });
        } else if (e instanceof DriverError && (e.kind === 'transient' || e.kind === 'rate-limited')) {
          throw e; // retried by the consumer
        } else {
          out = result(
            false,
            e instanceof DriverError ? `${e.kind}: ${e.message}` : (e as Error).message,
            ids,
          );
        }
      }
      if (action === 'destroy' && out.ok) await this.repo.markDestroyed(d.instanceId);
    }
    await this.publish([createEvent(SERVICE, InstanceActionCompleted.type, out, { subject: d.instanceId })]);
    return out;
  }
}
