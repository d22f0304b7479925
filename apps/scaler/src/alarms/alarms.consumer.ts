import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Bus, HandlerOutcome, Outcome } from '@nephele/bus';
import { AlarmTriggered, AlarmTriggeredData, CloudEvent, Topology } from '@nephele/contracts';
import { BUS } from '@nephele/service-kit';
import { AlarmsService } from './alarms.service';

/** `nephele.alarm.triggered` → alarm policies (bus adapter). */
@Injectable()
export class AlarmsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly alarms: AlarmsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe({
      queue: 'scaler.alarms',
      exchange: Topology.events,
      bindings: [AlarmTriggered.type],
      prefetch: 16,
      handler: (e) => this.handle(e as CloudEvent<AlarmTriggeredData>),
    });
  }

  private async handle(e: CloudEvent<AlarmTriggeredData>): Promise<HandlerOutcome> {
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
