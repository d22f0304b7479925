import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { LoggerLike } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';
import { FeedPollerConfig } from '../config/env';
import { FEED_POLLER_CONFIG } from '../feed-poller.tokens';
import { PollerRepository } from './poller.repository';
import { PollerService } from './poller.service';

/**
 * The polling loop of one replica: every tick it claims due feeds up to its concurrency (see
 * Note [Feed leases]) and polls each in the background; a slow or failing feed holds one slot
 * only, so the other feeds keep going.
 */
@Injectable()
export class PollerScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** This replica's lease owner id. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private lastPurge = 0;
  private readonly log: LoggerLike;

  constructor(
    private readonly poller: PollerService,
    private readonly repo: PollerRepository,
    @Inject(FEED_POLLER_CONFIG) private readonly config: FeedPollerConfig,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  onApplicationBootstrap(): void {
    if (!this.config.pollingEnabled) return;
    this.stopped = false;
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await Promise.allSettled(this.running.values());
    await this.repo.releaseAll(this.owner).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  /** Claims and starts due feeds; exposed for tests that drive the loop by hand. */
  async tick(): Promise<void> {
    try {
      const free = this.config.concurrency - this.running.size;
      const ids = await this.repo.claimDue(this.owner, this.config.leaseMs, free);
      for (const id of ids) {
        const run = this.poller
          .poll(id, this.owner, this.abort.signal)
          .then((r) => {
            // A feed with more pages to read is due again at once: look again without waiting.
            if (r.kind === 'done' && r.more) this.schedule(0);
          })
          .catch((e: Error) => this.log.error({ feedId: id, err: e.message }, 'feed poll crashed'))
          .finally(() => {
            this.running.delete(id);
          });
        this.running.set(id, run);
      }
      const now = Date.now();
      if (now - this.lastPurge > 3_600_000) {
        this.lastPurge = now;
        await this.repo.purgeSeen(this.config.seenRetentionDays);
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'feed poller tick failed');
    } finally {
      this.schedule(this.config.tickMs);
    }
  }
}
