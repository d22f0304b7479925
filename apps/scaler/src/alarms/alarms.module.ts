import { Module } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { StateModule } from '../state/state.module';
import { AlarmsConsumer } from './alarms.consumer';
import { AlarmsController } from './alarms.controller';
import { AlarmsService } from './alarms.service';

/** Alarms (Alertmanager and bus) that execute policies. */
@Module({
  imports: [StateModule, PoliciesModule],
  controllers: [AlarmsController, AlarmsConsumer],
  providers: [AlarmsService],
})
export class AlarmsModule {}
