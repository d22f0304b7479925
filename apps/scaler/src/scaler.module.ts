import { DynamicModule, Module } from '@nestjs/common';
import { databaseProviders } from '@nephele/service-kit';
import { AlarmsConsumer } from './alarms/alarms.consumer';
import { AlarmsController } from './alarms/alarms.controller';
import { AlarmsService } from './alarms/alarms.service';
import { ScalerConfig } from './config/env';
import { ConvergeSignal } from './convergence/converge.signal';
import { ConvergerService } from './convergence/converger.service';
import { LoadBalancerRegistry } from './convergence/lb.registry';
import { LifecycleRunner } from './convergence/lifecycle.runner';
import { RefreshRepository } from './convergence/refresh.repository';
import { RefreshRunner } from './convergence/refresh.runner';
import { ServersConsumer } from './convergence/servers.consumer';
import { ServersRepository } from './convergence/servers.repository';
import { ServersService } from './convergence/servers.service';
import { StepExecutor } from './convergence/step.executor';
import { VictimPicker } from './convergence/victim.picker';
import { SCALER_SCHEMA, scalerMigrations, SERVICE } from './data-source';
import { GroupsController } from './groups/groups.controller';
import { GroupsRepository } from './groups/groups.repository';
import { GroupsService } from './groups/groups.service';
import { LifecycleHooksController } from './groups/lifecycle-hooks.controller';
import { LifecycleHooksService } from './groups/lifecycle-hooks.service';
import { RefreshController } from './groups/refresh.controller';
import { RefreshService } from './groups/refresh.service';
import { DeliveriesRepository } from './notifications/deliveries.repository';
import { DeliveriesService } from './notifications/deliveries.service';
import { ExecuteController, PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { PolicyExecutorService } from './policies/policy-executor.service';
import { SchedulerService } from './policies/scheduler.service';
import { AuditRecorder } from './audit/audit.recorder';
import { MetricsConsumer } from './metrics/metrics.consumer';
import { MetricsRepository } from './metrics/metrics.repository';
import { PrometheusPoller } from './metrics/prometheus.poller';
import { TargetTrackingService } from './metrics/target-tracking.service';
import { SCALER_CONFIG, SCALER_DB, SCALER_EMBEDDED, SCALER_OUTBOX } from './scaler.tokens';

/** The autoscaler (ARCHITECTURE §6): groups, policies, schedules, alarms, convergence. */
@Module({})
export class ScalerModule {
  static forRoot(config: ScalerConfig): DynamicModule {
    return {
      module: ScalerModule,
      controllers: [
        GroupsController,
        RefreshController,
        LifecycleHooksController,
        PoliciesController,
        ExecuteController,
        AlarmsController,
        ServersConsumer,
        AlarmsConsumer,
        MetricsConsumer,
      ],
      providers: [
        { provide: SCALER_CONFIG, useValue: config },
        ...databaseProviders(
          SERVICE,
          { db: SCALER_DB, embedded: SCALER_EMBEDDED, outbox: SCALER_OUTBOX },
          { schema: SCALER_SCHEMA, url: config.databaseUrl, migrations: scalerMigrations, poolSize: 12 },
        ),
        AuditRecorder,
        ConvergeSignal,
        LoadBalancerRegistry,
        GroupsRepository,
        ServersRepository,
        DeliveriesRepository,
        DeliveriesService,
        GroupsService,
        RefreshService,
        LifecycleHooksService,
        PolicyExecutorService,
        PoliciesService,
        SchedulerService,
        StepExecutor,
        VictimPicker,
        RefreshRepository,
        RefreshRunner,
        LifecycleRunner,
        ConvergerService,
        ServersService,
        AlarmsService,
        MetricsRepository,
        TargetTrackingService,
        PrometheusPoller,
      ],
      exports: [ConvergerService, SchedulerService, TargetTrackingService],
    };
  }
}
