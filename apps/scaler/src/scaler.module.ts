import { DynamicModule, Global, Module } from '@nestjs/common';
import { databaseProviders } from '@nephele/service-kit';
import { AlarmsModule } from './alarms/alarms.module';
import { ScalerConfig } from './config/env';
import { ConvergenceModule } from './convergence/convergence.module';
import { SCALER_SCHEMA, scalerMigrations, SERVICE } from './data-source';
import { GroupsModule } from './groups/groups.module';
import { MetricsModule } from './metrics/metrics.module';
import { PoliciesModule } from './policies/policies.module';
import { SCALER_CONFIG, SCALER_DB, SCALER_EMBEDDED, SCALER_OUTBOX } from './scaler.tokens';

// Note [Scaler modules]
// One Nest module per feature folder, each importing only the modules below it:
//   alarms → policies → groups → convergence → notifications → state
//   metrics → state;  groups, policies → audit
// `state` holds the tables every feature reads (groups, servers, refreshes) and the converge
// request (ConvergeSignal): a feature asks for a pass by setting `converge_after` and nudging,
// never by calling convergence, so nothing below groups knows the API exists. The config, the
// database and the outbox come from the global ScalerCoreModule.

/** The scaler's config, database and outbox, shared by every feature module. */
@Global()
@Module({})
class ScalerCoreModule {
  static forRoot(config: ScalerConfig): DynamicModule {
    const providers = [
      { provide: SCALER_CONFIG, useValue: config },
      ...databaseProviders(
        SERVICE,
        { db: SCALER_DB, embedded: SCALER_EMBEDDED, outbox: SCALER_OUTBOX },
        { schema: SCALER_SCHEMA, url: config.databaseUrl, migrations: scalerMigrations, poolSize: 12 },
      ),
    ];
    return {
      module: ScalerCoreModule,
      providers,
      exports: [SCALER_CONFIG, SCALER_DB, SCALER_EMBEDDED, SCALER_OUTBOX],
    };
  }
}

/** The autoscaler (ARCHITECTURE §6): groups, policies, schedules, alarms, convergence. */
@Module({})
export class ScalerModule {
  static forRoot(config: ScalerConfig): DynamicModule {
    return {
      module: ScalerModule,
      imports: [
        ScalerCoreModule.forRoot(config),
        GroupsModule,
        PoliciesModule,
        AlarmsModule,
        MetricsModule,
        ConvergenceModule,
      ],
      exports: [ConvergenceModule, PoliciesModule, MetricsModule],
    };
  }
}
