import { Inject, Injectable } from '@nestjs/common';
import { LoggerLike } from '@nephele/bus';
import { Candidate } from '@nephele/broker';
import { DriverError, ProviderInstance } from '@nephele/drivers';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';
import { AgentBundleService } from '../agent-bundle/agent-bundle.service';
import { DriverPoolService } from '../drivers/driver-pool.service';
import { LaunchSelection, LaunchTarget } from '../selection/launch-selection';
import { EpochFence } from './epoch.fence';
import { LaunchOutcomePublisher } from './launch-outcome.publisher';
import { LaunchesRepository } from './launches.repository';
import { LaunchContext, LaunchOutcome } from './launch.types';

/**
 * Tries the selected candidates in order until one launches (Note [Provider selection]); a
 * candidate that fails counts against its account (the failure penalty of later selections).
 */
@Injectable()
export class LaunchFallbackExecutor {
  private readonly log: LoggerLike;

  constructor(
    private readonly drivers: DriverPoolService,
    private readonly repo: LaunchesRepository,
    private readonly fence: EpochFence,
    private readonly outcomes: LaunchOutcomePublisher,
    private readonly bundles: AgentBundleService,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  async run(ctx: LaunchContext, target: LaunchTarget, selection: LaunchSelection): Promise<LaunchOutcome> {
    const tried: string[] = [];
    for (const [i, c] of selection.tries.entries()) {
      const why = i === 0 ? 'first choice' : `after ${tried.join('; ')}`;
      await this.outcomes.decided(ctx, target.pool.id, selection.decisions, i + 1, c, why);
      const made = await this.attempt(ctx, c);
      if ('error' in made) {
        tried.push(`${c.account.name} failed (${made.error})`);
        continue;
      }
      return this.settle(ctx, target, c, made.inst);
    }
    return this.outcomes.failed(ctx, `every candidate failed: ${tried.join('; ')}`, {
      pool_id: target.pool.id,
      family_id: target.pool.familyId,
    });
  }

  private async attempt(
    ctx: LaunchContext,
    c: Candidate,
  ): Promise<{ inst: ProviderInstance } | { error: string }> {
    const { d, instanceId } = ctx;
    try {
      const driver = await this.drivers.forAccount(c.account.id);
      const inst = await driver.create({
        idempotencyKey: d.idempotencyKey,
        name: d.name ?? `nephele-${instanceId.slice(0, 8)}`,
        image: c.providerImageId,
        profile: c.profile.name,
        // Drivers that boot images get the agent's #cloud-config (Note [Agent bootstrap]).
        userData: await this.bundles.userDataFor(driver, d.userData),
        metadata: { ...d.metadata, nephele_instance: instanceId, nephele_owner: d.owner },
      });
      return { inst };
    } catch (e) {
      const reason = e instanceof DriverError ? `${e.kind}: ${e.message}` : (e as Error).message;
      await this.repo.recordFailure(c.account.id, reason);
      this.log.warn({ accountId: c.account.id, err: reason }, 'launch failed at a candidate');
      return { error: reason };
    }
  }

  /** The instance exists: fenced again, then the launch is recorded. */
  private async settle(
    ctx: LaunchContext,
    target: LaunchTarget,
    c: Candidate,
    inst: ProviderInstance,
  ): Promise<LaunchOutcome> {
    // Fenced again now that it exists: an owner whose epoch was raised while this launch was in
    // flight (its deployable destroyed, a newer DPE) listed its instances without this one.
    const superseded = await this.fence.check(ctx.d.owner, ctx.d.epoch);
    if (!superseded) return this.outcomes.launched(ctx, target, c, inst);
    const driver = await this.drivers.forAccount(c.account.id);
    await driver.destroy(inst.id).catch((e: Error) => {
      this.log.warn({ instanceId: ctx.instanceId, err: e.message }, 'destroying a superseded launch failed');
    });
    return this.outcomes.failed(
      ctx,
      `superseded while launching (${superseded}); the instance was destroyed`,
      {
        account_id: c.account.id,
        provider_instance_id: inst.id,
      },
    );
  }
}
