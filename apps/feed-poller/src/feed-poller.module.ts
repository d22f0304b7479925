import { DynamicModule, Module } from '@nestjs/common';
import { SecretBox } from '@nephele/crypto';
import { databaseProviders } from '@nephele/service-kit';
import { FeedPollerConfig } from './config/env';
import { FEED_POLLER_SCHEMA, feedPollerMigrations } from './data-source';
import {
  FEED_POLLER_CONFIG,
  FEED_POLLER_DB,
  FEED_POLLER_EMBEDDED,
  FEED_POLLER_OUTBOX,
  FEED_SECRET_BOX,
} from './feed-poller.tokens';
import { FeedsController } from './feeds/feeds.controller';
import { FeedsRepository } from './feeds/feeds.repository';
import { FeedsService } from './feeds/feeds.service';
import { AtomClient } from './poller/atom.client';
import { PollerRepository } from './poller/poller.repository';
import { PollerScheduler } from './poller/poller.scheduler';
import { PollerService } from './poller/poller.service';

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
        ...databaseProviders(
          'feed-poller',
          { db: FEED_POLLER_DB, embedded: FEED_POLLER_EMBEDDED, outbox: FEED_POLLER_OUTBOX },
          {
            schema: FEED_POLLER_SCHEMA,
            url: config.databaseUrl,
            migrations: feedPollerMigrations,
            poolSize: Math.min(20, config.concurrency + 4),
          },
        ),
        FeedsRepository,
        FeedsService,
        AtomClient,
        PollerRepository,
        PollerService,
        PollerScheduler,
      ],
    };
  }
}
