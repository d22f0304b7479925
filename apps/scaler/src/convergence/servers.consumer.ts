import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Bus, HandlerOutcome, Outcome } from '@nephele/bus';
import {
  CloudEvent,
  InstanceActionCompleted,
  InstanceActionCompletedData,
  InstanceStateChanged,
  InstanceStateChangedData,
  InstanceVanished,
  InstanceVanishedData,
  LaunchFailed,
  LaunchResultData,
  LaunchSucceeded,
  Topology,
} from '@nephele/contracts';
import { BUS } from '@nephele/service-kit';
import { ServersService } from './servers.service';

const GROUP_OWNER = /^group:/;

/** Gateway and tracker events about group servers (bus adapter; see Note [Server events]). */
@Injectable()
export class ServersConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly servers: ServersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe({
      queue: 'scaler.instance-events',
      exchange: Topology.events,
      bindings: [
        LaunchSucceeded.type,
        LaunchFailed.type,
        InstanceStateChanged.type,
        InstanceVanished.type,
        InstanceActionCompleted.type,
      ],
      prefetch: 32,
      handler: (e) => this.handle(e),
    });
  }

  private async handle(e: CloudEvent): Promise<HandlerOutcome> {
    const owner = (e.data as { owner?: string } | undefined)?.owner;
    if (!owner || !GROUP_OWNER.test(owner)) return Outcome.ack();
    try {
      switch (e.type) {
        case LaunchSucceeded.type:
          await this.servers.launchSucceeded(e as CloudEvent<LaunchResultData>);
          break;
        case LaunchFailed.type:
          await this.servers.launchFailed(e as CloudEvent<LaunchResultData>);
          break;
        case InstanceStateChanged.type:
          await this.servers.stateChanged(e as CloudEvent<InstanceStateChangedData>);
          break;
        case InstanceVanished.type:
          await this.servers.vanished(e as CloudEvent<InstanceVanishedData>);
          break;
        case InstanceActionCompleted.type:
          await this.servers.actionCompleted(e as CloudEvent<InstanceActionCompletedData>);
          break;
        default:
          return Outcome.ack();
      }
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }
}
