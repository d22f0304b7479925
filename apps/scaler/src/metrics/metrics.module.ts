import { Module } from '@nestjs/common';
import { StateModule } from '../state/state.module';
import { MetricsConsumer } from './metrics.consumer';
import { MetricsRepository } from './metrics.repository';
import { PrometheusPoller } from './prometheus.poller';
import { TargetTrackingService } from './target-tracking.service';

/** Metrics (bus events and Prometheus polls) and the target-tracking evaluation. */
@Module({
  imports: [StateModule],
  controllers: [MetricsConsumer],
  providers: [MetricsRepository, PrometheusPoller, TargetTrackingService],
  exports: [TargetTrackingService],
})
export class MetricsModule {}
