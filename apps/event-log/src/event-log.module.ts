import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createAppDataSource, pingDatabase } from '@nephele/persistence';
import { HealthRegistry } from '@nephele/service-kit';
import { EventLogConfig } from './config/env';
import { EVENT_LOG_SCHEMA, eventLogEntities, eventLogMigrations } from './data-source';
import { EVENT_LOG_CONFIG, EVENT_LOG_DB } from './event-log.tokens';
import { EventsConsumer } from './events/events.consumer';
import { EventsController } from './events/events.controller';
import { EventsNotifier } from './events/events.notifier';
import { EventsRepository } from './events/events.repository';
import { EventsService } from './events/events.service';
import { EventsStream } from './events/events.stream';
import { PartitionsService } from './events/partitions.service';

class EventLogLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_LOG_DB) private readonly db: DataSource,
    private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register('event-log-db', async () => {
      await pingDatabase(this.db);
    });
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}

/** The event log: stores every event, serves queries and live subscriptions (ARCHITECTURE §2). */
@Module({})
export class EventLogModule {
  static forRoot(config: EventLogConfig): DynamicModule {
    return {
      module: EventLogModule,
      controllers: [EventsController, EventsConsumer],
      providers: [
        { provide: EVENT_LOG_CONFIG, useValue: config },
        {
          provide: EVENT_LOG_DB,
          useFactory: async () =>
            (
              await createAppDataSource({
                schema: EVENT_LOG_SCHEMA,
                url: config.databaseUrl,
                entities: eventLogEntities,
                migrations: eventLogMigrations,
                poolSize: 4,
              })
            ).dataSource,
        },
        EventsRepository,
        EventsNotifier,
        EventsService,
        EventsStream,
        PartitionsService,
        EventLogLifecycle,
      ],
    };
  }
}
