import { HandlerOutcome, Outcome } from '@nephele/bus';
import { ConfigChanged, Topology } from '@nephele/contracts';
import { BusConsumer, EventPattern } from '@nephele/service-kit';
import { BrokerConfigService } from './broker-config.service';

/** Each gateway process drops its cached broker configuration when the configuration changes. */
@BusConsumer()
export class ConfigChangesConsumer {
  constructor(private readonly cache: BrokerConfigService) {}

  @EventPattern(ConfigChanged.type, { queue: Topology.queues.gatewayConfigChanges })
  async configChanged(): Promise<HandlerOutcome> {
    this.cache.invalidate();
    return Outcome.ack();
  }
}
