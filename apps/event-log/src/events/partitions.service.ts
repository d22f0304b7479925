import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { LoggerLike } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { CLOCK, Clock, LOGGER } from '@nephele/service-kit';
import { EventLogConfig } from '../config/env';
import { EVENT_LOG_CONFIG } from '../event-log.tokens';
import { EventsRepository } from './events.repository';

/** Keeps day partitions ahead of time and drops expired ones, hourly, on one replica at a time. */
@Injectable()
export class PartitionsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly log: LoggerLike;

  constructor(
    private readonly repo: EventsRepository,
    @Inject(EVENT_LOG_CONFIG) private readonly config: EventLogConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.maintain();
    this.timer = setInterval(() => void this.maintain(), 3_600_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async maintain(): Promise<void> {
    try {
      const r = await this.repo.maintainPartitionsOnce(this.clock.now(), this.config.retentionDays);
      if (r && (r.created.length || r.dropped.length)) this.log.info(r, 'event partitions maintained');
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'partition maintenance failed');
    }
  }
}
