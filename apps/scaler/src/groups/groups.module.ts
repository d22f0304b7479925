import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConvergenceModule } from '../convergence/convergence.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { StateModule } from '../state/state.module';
import { GroupsController } from './groups.controller';
import { GroupsService } from './groups.service';
import { GroupServersService } from './group-servers.service';
import { LifecycleHooksController } from './lifecycle-hooks.controller';
import { LifecycleHooksService } from './lifecycle-hooks.service';
import { RefreshController } from './refresh.controller';
import { RefreshService } from './refresh.service';

/** The groups API: groups, their servers, instance refresh and lifecycle hooks. */
@Module({
  imports: [StateModule, AuditModule, ConvergenceModule, NotificationsModule],
  controllers: [GroupsController, RefreshController, LifecycleHooksController],
  providers: [GroupsService, GroupServersService, RefreshService, LifecycleHooksService],
  exports: [GroupsService],
})
export class GroupsModule {}
