import { HandlerOutcome, Outcome } from '@nephele/bus';
import { AlarmTriggered, AlarmTriggeredData, CloudEvent, Topology } from '@nephele/contracts';
import { BusConsumer, EventPattern } from '@nephele/service-kit';
import { AlarmsService } from './alarms.service';

/** `nephele.alarm.triggered` → alarm policies (bus adapter). */
@BusConsumer()
export class AlarmsConsumer {
  constructor(private readonly alarms: AlarmsService) {}

  @EventPattern(AlarmTriggered.type, { queue: Topology.queues.scalerAlarms })
  async handle(e: CloudEvent<AlarmTriggeredData>): Promise<HandlerOutcome> {
    const labels = e.data?.labels ?? {};
    if (Object.values(labels).some((v) => typeof v !== 'string')) {
      return Outcome.deadLetter('labels must map label names to strings');
    }
    try {
      await this.alarms.fromEvent(e);
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }
}
