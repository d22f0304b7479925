import { HandlerOutcome, Outcome } from '@nephele/bus';
import { CloudEvent, DpeEventData, DpeHeartbeat, Topology } from '@nephele/contracts';
import { BusConsumer, EventPattern } from '@nephele/service-kit';
import { SupervisorService } from './supervisor.service';

/** Every CPE replica hears every DPE's heartbeat on its own queue (see Note [Supervision]). */
@BusConsumer()
export class DpeHeartbeatsConsumer {
  constructor(private readonly supervisor: SupervisorService) {}

  @EventPattern(DpeHeartbeat.type, { queue: Topology.queues.cpeDpeHeartbeats })
  async heartbeat(e: CloudEvent<DpeEventData>): Promise<HandlerOutcome> {
    this.supervisor.heard(e.data!);
    return Outcome.ack();
  }
}
