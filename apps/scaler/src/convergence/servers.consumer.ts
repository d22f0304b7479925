import { HandlerOutcome, Outcome } from '@nephele/bus';
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
import { BusConsumer, EventPattern } from '@nephele/service-kit';
import { ServersService } from './servers.service';

const GROUP_OWNER = /^group:/;

const queue = Topology.queues.scalerInstanceEvents;

/** Gateway and tracker events about group servers (bus adapter; see Note [Server events]). */
@BusConsumer()
export class ServersConsumer {
  constructor(private readonly servers: ServersService) {}

  @EventPattern(LaunchSucceeded.type, { queue })
  async launchSucceeded(e: CloudEvent<LaunchResultData>): Promise<HandlerOutcome> {
    return this.forGroup(e, () => this.servers.launchSucceeded(e));
  }

  @EventPattern(LaunchFailed.type, { queue })
  async launchFailed(e: CloudEvent<LaunchResultData>): Promise<HandlerOutcome> {
    return this.forGroup(e, () => this.servers.launchFailed(e));
  }

  @EventPattern(InstanceStateChanged.type, { queue })
  async stateChanged(e: CloudEvent<InstanceStateChangedData>): Promise<HandlerOutcome> {
    return this.forGroup(e, () => this.servers.stateChanged(e));
  }

  @EventPattern(InstanceVanished.type, { queue })
  async vanished(e: CloudEvent<InstanceVanishedData>): Promise<HandlerOutcome> {
    return this.forGroup(e, () => this.servers.vanished(e));
  }

  @EventPattern(InstanceActionCompleted.type, { queue })
  async actionCompleted(e: CloudEvent<InstanceActionCompletedData>): Promise<HandlerOutcome> {
    return this.forGroup(e, () => this.servers.actionCompleted(e));
  }

  /** Only servers of groups concern the scaler. */
  private async forGroup(e: CloudEvent, apply: () => Promise<unknown>): Promise<HandlerOutcome> {
    const owner = (e.data as { owner?: string } | undefined)?.owner;
    if (!owner || !GROUP_OWNER.test(owner)) return Outcome.ack();
    try {
      await apply();
      return Outcome.ack();
    } catch (err) {
      return Outcome.failed(err, 1000);
    }
  }
}
