import { Inject, Injectable } from '@nestjs/common';
import { LoggerLike } from '@nephele/bus';
import { BrokerConfigSnapshot, ImageConfig } from '@nephele/broker';
import { InstanceCreateData } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';
import { BrokerConfigService } from '../broker/broker-config.service';
import { GatewayConfig } from '../config/env';
import { GATEWAY_CONFIG, IMAGE_MAPPER } from '../gateway.tokens';
import { ImageMapper } from '../images/image-mapper';
import { LaunchSelection, LaunchTarget, resolveTarget, selectForLaunch } from '../selection/launch-selection';
import { LaunchesRepository } from './launches.repository';

export type ResolvedLaunch = { target: LaunchTarget; selection: LaunchSelection } | { error: string };

/**
 * Gathers what selecting a provider for a launch needs (the broker configuration, the image on each
 * account, usage and recent failures), then asks the pure selection which candidates to try.
 */
@Injectable()
export class LaunchRequestResolver {
  private readonly log: LoggerLike;

  constructor(
    private readonly brokerConfig: BrokerConfigService,
    private readonly repo: LaunchesRepository,
    @Inject(IMAGE_MAPPER) private readonly images: ImageMapper,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  /** Throws when the configuration cannot be read (the command is retried); else the candidates or why none. */
  async resolve(d: InstanceCreateData): Promise<ResolvedLaunch> {
    let snapshot: BrokerConfigSnapshot;
    try {
      snapshot = await this.brokerConfig.get();
    } catch (e) {
      throw new Error(`cannot launch now: ${(e as Error).message}`); // retried by the consumer
    }
    const target = resolveTarget(snapshot, d);
    if ('error' in target) return target;
    const [mappings, usage, recentFailures] = await Promise.all([
      this.mappings(snapshot, target.image, target.familyAccountIds),
      this.repo.usage(target.pool.id, target.pool.familyId),
      this.repo.recentFailures(this.config.failureWindowMs),
    ]);
    const selection = selectForLaunch(
      snapshot,
      target,
      { mappings, usage, recentFailures, seed: d.idempotencyKey },
      this.config.maxAttempts,
    );
    return { target, selection };
  }

  /** The provider image id on each account of the family (an account the mapper fails on is skipped). */
  private async mappings(
    snapshot: BrokerConfigSnapshot,
    image: ImageConfig,
    accountIds: string[],
  ): Promise<Map<string, string>> {
    const mappings = new Map<string, string>();
    for (const accountId of accountIds) {
      const account = snapshot.providerAccounts.find((a) => a.id === accountId);
      if (!account) continue;
      try {
        const id = await this.images.resolve(image, account, snapshot);
        if (id) mappings.set(accountId, id);
      } catch (e) {
        this.log.warn({ err: (e as Error).message, accountId }, 'image mapper failed; account skipped');
      }
    }
    return mappings;
  }
}
