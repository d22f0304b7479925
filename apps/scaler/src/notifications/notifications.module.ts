import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { DeliveriesRepository } from './deliveries.repository';
import { DeliveriesService } from './deliveries.service';

/** Signed customer webhooks (server ready) and their deliveries. */
@Module({
  imports: [StateModule],
  providers: [DeliveriesRepository, DeliveriesService],
  exports: [DeliveriesRepository, DeliveriesService],
})
export class NotificationsModule {}
