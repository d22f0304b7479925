import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Bus, HandlerOutcome, Outcome } from '@nephele/bus';
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
import { BUS } from '@nephele/service-kit';
import { normaliseState, toView } from './instance.mapping';
import { InstanceRow, InstancesRepository } from './instances.repository';
import { InstancesService } from './instances.service';
import { PollerService } from './poller.service';

/** Keeps the store true from gateway results and provider feed events (idempotent on event ids). */
@Injectable()
export class InstancesConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly instances: InstancesService,
    private readonly poller: PollerService,
    private readonly repo: InstancesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe({
      queue: 'state-tracker.gateway-results',
      exchange: Topology.events,
      bindings: [LaunchSucceeded.type, InstanceActionCompleted.type],
      prefetch: 32,
      handler: (e) => this.onGatewayResult(e),
    });
    await this.bus.respond('state-tracker.query', [InstanceQuery.type], async (e) => {
      const q = e.data as InstanceQueryData;
      const rows = q.id
        ? [await this.repo.get(q.id)].filter((r): r is InstanceRow => !!r)
        : await this.repo.find({ pool: q.pool, project: q.project, ownerPrefix: q.ownerPrefix }, 1000);
      return { items: rows.filter((r) => q.includeTerminated || r.state !== 'terminated').map(toView) };
    });
    await this.bus.subscribe({
      queue: 'state-tracker.provider-events',
      exchange: Topology.events,
      bindings: [InstanceProviderEvent.type],
      prefetch: 32,
      handler: (e) => this.onProviderEvent(e as CloudEvent<ProviderEventData>),
    });
  }

  private async onGatewayResult(e: CloudEvent): Promise<HandlerOutcome> {
    try {
      if (e.type === LaunchSucceeded.type) await this.instances.launched(e as CloudEvent<LaunchResultData>);
      else await this.instances.actionCompleted(e as CloudEvent<InstanceActionCompletedData>);
      this.poller.nudge();
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }

  private async onProviderEvent(e: CloudEvent<ProviderEventData>): Promise<HandlerOutcome> {
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
}
