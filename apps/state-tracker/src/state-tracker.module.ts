import { DynamicModule, Module } from '@nestjs/common';
import { databaseProviders } from '@nephele/service-kit';
import { StateTrackerConfig } from './config/env';
import { STATE_TRACKER_SCHEMA, stateTrackerMigrations } from './data-source';
import { CallbacksController, InstancesController } from './instances/instances.controller';
import { InstancesConsumer } from './instances/instances.consumer';
import { InstancesRepository } from './instances/instances.repository';
import { InstancesService, TRACKER_OUTBOX } from './instances/instances.service';
import { PollerService } from './instances/poller.service';
import { TRACKER_CONFIG, TRACKER_DB, TRACKER_EMBEDDED } from './state-tracker.tokens';

/** The state tracker: keeps the instance store true (ARCHITECTURE §2). */
@Module({})
export class StateTrackerModule {
  static forRoot(config: StateTrackerConfig): DynamicModule {
    return {
      module: StateTrackerModule,
      controllers: [InstancesController, CallbacksController, InstancesConsumer],
      providers: [
        { provide: TRACKER_CONFIG, useValue: config },
        ...databaseProviders(
          'state-tracker',
          { db: TRACKER_DB, embedded: TRACKER_EMBEDDED, outbox: TRACKER_OUTBOX },
          {
            schema: STATE_TRACKER_SCHEMA,
            url: config.databaseUrl,
            migrations: stateTrackerMigrations,
            poolSize: 6,
          },
        ),
        InstancesRepository,
        InstancesService,
        PollerService,
      ],
      exports: [InstancesRepository, PollerService],
    };
  }
}
