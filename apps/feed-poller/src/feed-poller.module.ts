import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SecretBox } from '@nephele/crypto';
import { createAppDataSource } from '@nephele/persistence';
import { HealthRegistry } from '@nephele/service-kit';
import { FeedPollerConfig } from './config/env';
import { FEED_POLLER_SCHEMA, feedPollerEntities, feedPollerMigrations } from './data-source';
import { FEED_POLLER_CONFIG, FEED_POLLER_DB, FEED_SECRET_BOX } from './feed-poller.tokens';
import { FeedsController } from './feeds/feeds.controller';
import { FeedsRepository } from './feeds/feeds.repository';
import { FeedsService } from './feeds/feeds.service';
import { AtomClient } from './poller/atom.client';
import { PollerRepository } from './poller/poller.repository';
import { PollerScheduler } from './poller/poller.scheduler';
import { PollerService } from './poller/poller.service';

class FeedPollerLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(FEED_POLLER_DB) private readonly db: DataSource,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register('feed-poller-db', async () => {
      await this.db.query('SELECT 1');
    });
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}

/** The feed poller: `/v1/feeds` and the loop that turns provider Atom feeds into bus events (ARCHITECTURE §6). */
@Module({})
export class FeedPollerModule {
  static forRoot(config: FeedPollerConfig): DynamicModule {
    return {
      module: FeedPollerModule,
      controllers: [FeedsController],
      providers: [
        { provide: FEED_POLLER_CONFIG, useValue: config },
        {
          provide: FEED_SECRET_BOX,
          useFactory: () => (config.masterKey ? new SecretBox(config.masterKey) : null),
        },
        {
          provide: FEED_POLLER_DB,
          useFactory: async () =>
            (
              await createAppDataSource({
                schema: FEED_POLLER_SCHEMA,
                url: config.databaseUrl,
                entities: feedPollerEntities,
                migrations: feedPollerMigrations,
                poolSize: Math.min(20, config.concurrency + 4),
              })
            ).dataSource,
        },
        FeedsRepository,
        FeedsService,
        AtomClient,
        PollerRepository,
        PollerService,
        PollerScheduler,
        FeedPollerLifecycle,
      ],
    };
  }
}
