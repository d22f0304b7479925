import { HandlerOutcome, Outcome } from '@nephele/bus';
import {
  CloudEvent,
  InstanceActionCompleted,
  InstanceActionCompletedData,
  InstanceProviderEvent,
  InstanceQuery,
  InstanceQueryData,
  LaunchResultData,
  LaunchSucceeded,
  ProviderEventData,
  Topology,
} from '@nephele/contracts';
import { BusConsumer, EventPattern, MessagePattern } from '@nephele/service-kit';
import { normaliseState, toView } from './instance.mapping';
import { InstanceRow, InstancesRepository } from './instances.repository';
import { InstancesService } from './instances.service';
import { PollerService } from './poller.service';

/** Keeps the store true from gateway results and provider feed events (idempotent on event ids). */
@BusConsumer()
export class InstancesConsumer {
  constructor(
    private readonly instances: InstancesService,
    private readonly poller: PollerService,
    private readonly repo: InstancesRepository,
  ) {}

  @EventPattern(LaunchSucceeded.type, { queue: Topology.queues.stateTrackerGatewayResults })
  async launchSucceeded(e: CloudEvent<LaunchResultData>): Promise<HandlerOutcome> {
    return this.gatewayResult(() => this.instances.launched(e));
  }

  @EventPattern(InstanceActionCompleted.type, { queue: Topology.queues.stateTrackerGatewayResults })
  async actionCompleted(e: CloudEvent<InstanceActionCompletedData>): Promise<HandlerOutcome> {
    return this.gatewayResult(() => this.instances.actionCompleted(e));
  }

  @MessagePattern(InstanceQuery.type, { queue: Topology.queues.stateTrackerQuery })
  async query(e: CloudEvent<InstanceQueryData>): Promise<unknown> {
    const q = e.data!;
    const rows = q.id
      ? [await this.repo.get(q.id)].filter((r): r is InstanceRow => !!r)
      : await this.repo.find({ pool: q.pool, project: q.project, ownerPrefix: q.ownerPrefix }, 1000);
    return { items: rows.filter((r) => q.includeTerminated || r.state !== 'terminated').map(toView) };
  }

  @EventPattern(InstanceProviderEvent.type, { queue: Topology.queues.stateTrackerProviderEvents })
  async providerEvent(e: CloudEvent<ProviderEventData>): Promise<HandlerOutcome> {
    const d = e.data!;
    const state = normaliseState(d.state ?? d.eventType);
    if (!d.providerAccountId || !d.providerInstanceId || !state) return Outcome.ack(); // nothing to apply
    try {
      await this.instances.observeByProvider(
        d.providerAccountId,
        d.providerInstanceId,
        { state, reason: `feed ${d.feedId}: ${d.eventType ?? d.state}`, source: 'feed' },
        e,
      );
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }

  private async gatewayResult(apply: () => Promise<unknown>): Promise<HandlerOutcome> {
    try {
      await apply();
      this.poller.nudge();
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }
}
