import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { GroupsModule } from '../groups/groups.module';
import { StateModule } from '../state/state.module';
import { ExecuteController, PoliciesController } from './policies.controller';
import { PoliciesService } from './policies.service';
import { PolicyExecutorService } from './policy-executor.service';
import { SchedulerService } from './scheduler.service';

/** Policies, their webhooks (capability URLs) and schedules. */
@Module({
  imports: [StateModule, AuditModule, GroupsModule],
  controllers: [PoliciesController, ExecuteController],
  providers: [PoliciesService, PolicyExecutorService, SchedulerService],
  exports: [PolicyExecutorService, SchedulerService],
})
export class PoliciesModule {}
