import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { StateModule } from '../state/state.module';
import { ConvergeReconciler } from './converge.reconciler';
import { ConvergerService } from './converger.service';
import { LoadBalancerRegistry } from './lb.registry';
import { LifecycleRunner } from './lifecycle.runner';
import { RefreshRunner } from './refresh.runner';
import { ServersConsumer } from './servers.consumer';
import { ServersService } from './servers.service';
import { StepExecutor } from './step.executor';
import { VictimPicker } from './victim.picker';

/** Convergence: the converge loop, its steps, hooks and refresh runners, server events. */
@Module({
  imports: [StateModule, NotificationsModule],
  controllers: [ServersConsumer],
  providers: [
    LoadBalancerRegistry,
    StepExecutor,
    VictimPicker,
    RefreshRunner,
    LifecycleRunner,
    ConvergeReconciler,
    ConvergerService,
    ServersService,
  ],
  exports: [ConvergerService, LoadBalancerRegistry, RefreshRunner],
})
export class ConvergenceModule {}
