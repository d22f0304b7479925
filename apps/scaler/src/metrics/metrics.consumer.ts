import { Inject } from '@nestjs/common';
import { HandlerOutcome, Outcome } from '@nephele/bus';
import { CloudEvent, MetricObserved, MetricObservedData, Topology } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { isRfc3339 } from '@nephele/util';
import { BusConsumer, EventPattern, LOGGER } from '@nephele/service-kit';
import { MetricsRepository } from './metrics.repository';
import { TargetTrackingService } from './target-tracking.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `nephele.metric.observed` → the group's latest value of the metric (bus adapter). */
@BusConsumer()
export class MetricsConsumer {
  constructor(
    private readonly repo: MetricsRepository,
    private readonly tracking: TargetTrackingService,
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {}

  @EventPattern(MetricObserved.type, { queue: Topology.queues.scalerMetrics })
  async handle(e: CloudEvent<MetricObservedData>): Promise<HandlerOutcome> {
    const d = e.data;
    if (!d) return Outcome.deadLetter('no data');
    if (!UUID.test(d.groupId)) return Outcome.deadLetter('groupId must be a group id');
    const at = d.observedAt ?? e.time;
    if (!at || !isRfc3339(at)) return Outcome.deadLetter('observedAt must be an RFC 3339 time');
    try {
      const known = await this.repo.observe(d.groupId, d.metric, d.value, new Date(at), `event:${e.source}`);
      if (!known)
        this.log.info({ groupId: d.groupId, metric: d.metric }, 'metric for an unknown group dropped');
      else this.tracking.nudge();
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }
}
