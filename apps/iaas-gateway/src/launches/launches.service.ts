import { Inject, Injectable } from '@nestjs/common';
import { enqueueEvents, LoggerLike, OutboxRelay } from '@nephele/bus';
import { BrokerConfigSnapshot, Candidate, selectCandidates } from '@nephele/broker';
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
  SelectionDecided,
} from '@nephele/contracts';
import { DriverError, ProviderInstance } from '@nephele/drivers';
import { AppLogger, counter } from '@nephele/observability';
import { AuditedChange, enqueueAudit, LOGGER, METRICS, Principal } from '@nephele/service-kit';
import { nameUuid } from '@nephele/util';
import { Registry } from 'prom-client';
import { BrokerConfigService } from '../config-cache/broker-config.service';
import { GatewayConfig } from '../config/env';
import { GATEWAY_SCHEMA } from '../data-source';
import { DriverPoolService } from '../drivers/driver-pool.service';
import { GATEWAY_CONFIG, GATEWAY_OUTBOX, IMAGE_MAPPER, SERVICE } from '../gateway.tokens';
import { ImageMapper } from '../images/image-mapper';
import { AttemptRow, LaunchesRepository } from './launches.repository';

const INSTANCE_NS = 'nephele:instance';

/** The owner's fencing key: `deployable:<id>/<assembly>` is fenced per deployable. */
export function ownerKey(owner: string): string {
  return owner.split('/')[0]!;
}

export type LaunchOutcome =
  | { ok: true; instanceId: string; providerInstanceId: string; providerAccountId: string }
  | { ok: false; instanceId: string; reason: string };

// Note [Launch idempotency]
// An instance's id is derived from its idempotency key, and every driver refuses to make a second
// instance for a key. A command delivered twice, or retried after a crash half-way, therefore finds
// the same attempt row and the same provider instance: the result is published again and nothing
// new is launched. A stale DPE epoch (see Note [Fencing] in the CPE) is refused before anything.
@Injectable()
export class LaunchesService {
  private readonly log: LoggerLike;
  private readonly launches;

  constructor(
    private readonly repo: LaunchesRepository,
    private readonly brokerConfig: BrokerConfigService,
    private readonly drivers: DriverPoolService,
    @Inject(IMAGE_MAPPER) private readonly images: ImageMapper,
    @Inject(GATEWAY_OUTBOX) private readonly outbox: OutboxRelay,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) log: AppLogger,
    @Inject(METRICS) metrics: Registry,
  ) {
    this.log = log;
    this.launches = counter(metrics, 'nephele_gateway_launches_total', 'Launch commands by result', [
      'result',
    ]);
  }

  /** Records who asked for a change through the API (`nephele.audit.*`, through the outbox). */
  async audit(p: Principal, change: AuditedChange): Promise<void> {
    await this.repo.transaction((tx) => enqueueAudit(tx, GATEWAY_SCHEMA, SERVICE, p, change));
    this.outbox.nudge();
  }

  private async publish(events: CloudEvent[]): Promise<void> {
    await this.repo.transaction((tx) => enqueueEvents(tx, GATEWAY_SCHEMA, events));
    this.outbox.nudge();
  }

  /** Refuses a command from an older epoch than the owner's current one. */
  async fenced(owner: string, epoch: number | undefined): Promise<string | undefined> {
    if (epoch === undefined) return undefined;
    const current = await this.repo.raiseEpoch(ownerKey(owner), epoch);
    return current > epoch ? `stale epoch ${epoch}: ${ownerKey(owner)} is at epoch ${current}` : undefined;
  }

  async create(d: InstanceCreateData): Promise<LaunchOutcome> {
    const instanceId = nameUuid(INSTANCE_NS, d.idempotencyKey);
    const base: LaunchResultData = {
      instanceId,
      owner: d.owner,
      idempotencyKey: d.idempotencyKey,
      epoch: d.epoch,
    };
    const fail = async (reason: string, extra: Partial<AttemptRow> = {}): Promise<LaunchOutcome> => {
      this.launches.inc({ result: 'failed' });
      await this.repo.transaction(async (tx) => {
        await this.repo.finish(tx, d.idempotencyKey, { status: 'failed', reason, ...extra });
        await enqueueEvents(tx, GATEWAY_SCHEMA, [
          createEvent(
            SERVICE,
            LaunchFailed.type,
            { ...base, reason, pool: d.pool },
            { subject: instanceId, project: d.project },
          ),
        ]);
      });
      this.outbox.nudge();
      return { ok: false, instanceId, reason };
    };

    const stale = await this.fenced(d.owner, d.epoch);
    if (stale) {
      await this.publish([
        createEvent(
          SERVICE,
          LaunchFailed.type,
          { ...base, reason: stale },
          { subject: instanceId, project: d.project },
        ),
      ]);
      return { ok: false, instanceId, reason: stale };
    }
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

    let snapshot: BrokerConfigSnapshot;
    try {
      snapshot = await this.brokerConfig.get();
    } catch (e) {
      throw new Error(`cannot launch now: ${(e as Error).message}`); // retried by the consumer
    }
    const inProject = <T extends { project: string; id: string; name: string }>(items: T[], ref: string) =>
      items.filter((x) => (x.id === ref || x.name === ref) && (!d.project || x.project === d.project));
    const [pool] = inProject(snapshot.pools, d.pool);
    if (!pool) return fail(`pool ${d.pool} not found${d.project ? ` in project ${d.project}` : ''}`);
    if (!pool.enabled) return fail(`pool ${pool.name} is disabled`);
    const [hw] = inProject(snapshot.hardwareProfiles, d.hardwareProfile).filter(
      (h) => h.project === pool.project,
    );
    if (!hw) return fail(`hardware profile ${d.hardwareProfile} not found in the pool's project`);
    const [image] = inProject(snapshot.images, d.image).filter((i) => i.project === pool.project);
    if (!image) return fail(`image ${d.image} not found in the pool's project`);
    const family = snapshot.poolFamilies.find((f) => f.id === pool.familyId);

    const mappings = new Map<string, string>();
    for (const accountId of family?.accountIds ?? []) {
      const account = snapshot.providerAccounts.find((a) => a.id === accountId);
      if (!account) continue;
      try {
        const id = await this.images.resolve(image, account, snapshot);
        if (id) mappings.set(accountId, id);
      } catch (e) {
        this.log.warn({ err: (e as Error).message, accountId }, 'image mapper failed; account skipped');
      }
    }
    const [usage, recentFailures] = await Promise.all([
      this.repo.usage(pool.id, pool.familyId),
      this.repo.recentFailures(this.config.failureWindowMs),
    ]);
    const selection = selectCandidates(snapshot, {
      pool,
      hardwareProfile: hw,
      imageId: image.id,
      mappings,
      usage,
      recentFailures,
      seed: d.idempotencyKey,
    });
    const tried: string[] = [];
    const decide = (attempt: number, chosen: Candidate | undefined, reason: string) =>
      createEvent(
        SERVICE,
        SelectionDecided.type,
        {
          idempotencyKey: d.idempotencyKey,
          owner: d.owner,
          pool: pool.id,
          candidates: selection.decisions,
          chosen: chosen?.account.id,
          attempt,
          reason,
        },
        { subject: instanceId, project: d.project },
      );
    if (!selection.candidates.length) {
      await this.publish([decide(0, undefined, 'no candidate account')]);
      return fail(
        `no provider account can take it: ${selection.decisions.map((x) => `${x.providerAccountId}: ${x.reason}`).join('; ') || 'the pool family has no accounts'}`,
        {
          pool_id: pool.id,
          family_id: pool.familyId,
        },
      );
    }
    for (const [i, c] of selection.candidates.slice(0, this.config.maxAttempts).entries()) {
      await this.publish([decide(i + 1, c, i === 0 ? 'first choice' : `after ${tried.join('; ')}`)]);
      let inst: ProviderInstance;
      try {
        const driver = await this.drivers.forAccount(c.account.id);
        inst = await driver.create({
          idempotencyKey: d.idempotencyKey,
          name: d.name ?? `nephele-${instanceId.slice(0, 8)}`,
          image: c.providerImageId,
          profile: c.profile.name,
          userData: d.userData,
          metadata: { ...d.metadata, nephele_instance: instanceId, nephele_owner: d.owner },
        });
      } catch (e) {
        const reason = e instanceof DriverError ? `${e.kind}: ${e.message}` : (e as Error).message;
        tried.push(`${c.account.name} failed (${reason})`);
        await this.repo.recordFailure(c.account.id, reason);
        this.log.warn({ accountId: c.account.id, err: reason }, 'launch failed at a candidate');
        continue;
      }
      // Fenced again now that it exists: an owner whose epoch was raised while this launch was in
      // flight (its deployable destroyed, a newer DPE) listed its instances without this one.
      const superseded = await this.fenced(d.owner, d.epoch);
      if (superseded) {
        const driver = await this.drivers.forAccount(c.account.id);
        await driver.destroy(inst.id).catch((e: Error) => {
          this.log.warn({ instanceId, err: e.message }, 'destroying a superseded launch failed');
        });
        return fail(`superseded while launching (${superseded}); the instance was destroyed`, {
          account_id: c.account.id,
          provider_instance_id: inst.id,
        });
      }
      this.launches.inc({ result: 'launched' });
      const result: LaunchResultData = {
        ...base,
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
        await this.repo.finish(tx, d.idempotencyKey, {
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
        await enqueueEvents(tx, GATEWAY_SCHEMA, [
          createEvent(SERVICE, LaunchSucceeded.type, result, { subject: instanceId, project: d.project }),
        ]);
      });
      this.outbox.nudge();
      return { ok: true, instanceId, providerInstanceId: inst.id, providerAccountId: c.account.id };
    }
    return fail(`every candidate failed: ${tried.join('; ')}`, {
      pool_id: pool.id,
      family_id: pool.familyId,
    });
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
