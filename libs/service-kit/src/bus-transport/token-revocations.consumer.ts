import { Inject } from '@nestjs/common';

import { HandlerOutcome, Outcome } from '@nephele/bus';
import { CloudEvent, ConfigChanged, ConfigChangedData, Topology } from '@nephele/contracts';
import { TokenRevocations } from '../revocation';
import { TOKEN_REVOCATIONS } from '../tokens';
import { BusConsumer } from './bus-consumer.decorator';
import { EventPattern } from './bus-patterns.decorator';

/** Every process hears of revoked tokens on its own queue (see Note [Revocation]). */
@BusConsumer()
export class TokenRevocationsConsumer {
  constructor(@Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations) {}

  @EventPattern(ConfigChanged.type, { queue: Topology.queues.tokenRevocations })
  async configChanged(event: CloudEvent<ConfigChangedData>): Promise<HandlerOutcome> {
    const d = event.data!;
    if (d.resource === 'tokens' && d.action === 'deleted') this.revocations.revoked(d.id);
    return Outcome.ack();
  }
}
