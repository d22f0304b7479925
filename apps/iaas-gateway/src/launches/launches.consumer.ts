import { Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { HandlerOutcome, LoggerLike, MessageContext, Outcome } from '@nephele/bus';
import {
  CloudEvent,
  DpeEventData,
  DpeStarted,
  InstanceActionData,
  InstanceCreate,
  InstanceCreateData,
  InstanceDestroy,
  InstanceReboot,
  InstanceStart,
  InstanceStateChanged,
  InstanceStateChangedData,
  InstanceStop,
  InstanceVanished,
  InstanceVanishedData,
  ListAccountInstances,
  ListAccountInstancesData,
  ListAccountInstancesReply,
  Topology,
} from '@nephele/contracts';
import { DriverError } from '@nephele/drivers';
import { AppLogger } from '@nephele/observability';
import { BusConsumer, EventPattern, LOGGER, MessagePattern } from '@nephele/service-kit';
import { backoffDelay } from '@nephele/util';
import { DriverPoolService } from '../drivers/driver-pool.service';
import { LaunchesRepository } from './launches.repository';
import { LaunchesService } from './launches.service';

const commands = Topology.queues.gatewayCommands;
const events = Topology.queues.gatewayInstanceEvents;

/** The gateway's bus adapter: instance commands, list requests, and what it must hear about. */
@BusConsumer()
export class LaunchesConsumer {
  private readonly log: LoggerLike;
  constructor(
    private readonly launches: LaunchesService,
    private readonly repo: LaunchesRepository,
    private readonly drivers: DriverPoolService,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  @EventPattern(InstanceCreate.type, { queue: commands })
  async create(
    @Payload() e: CloudEvent<InstanceCreateData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    return this.command(e, ctx, () => this.launches.create(e.data!));
  }

  @EventPattern(InstanceDestroy.type, { queue: commands })
  async destroy(
    @Payload() e: CloudEvent<InstanceActionData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    return this.command(e, ctx, () => this.launches.act('destroy', e.data!));
  }

  @EventPattern(InstanceStart.type, { queue: commands })
  async start(
    @Payload() e: CloudEvent<InstanceActionData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    return this.command(e, ctx, () => this.launches.act('start', e.data!));
  }

  @EventPattern(InstanceStop.type, { queue: commands })
  async stop(
    @Payload() e: CloudEvent<InstanceActionData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    return this.command(e, ctx, () => this.launches.act('stop', e.data!));
  }

  @EventPattern(InstanceReboot.type, { queue: commands })
  async reboot(
    @Payload() e: CloudEvent<InstanceActionData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    return this.command(e, ctx, () => this.launches.act('reboot', e.data!));
  }

  @EventPattern(InstanceVanished.type, { queue: events })
  async vanished(e: CloudEvent<InstanceVanishedData>): Promise<HandlerOutcome> {
    await this.repo.markDestroyed(e.data!.instanceId);
    return Outcome.ack();
  }

  @EventPattern(InstanceStateChanged.type, { queue: events })
  async stateChanged(e: CloudEvent<InstanceStateChangedData>): Promise<HandlerOutcome> {
    if (e.data!.to === 'terminated') await this.repo.markDestroyed(e.data!.instanceId);
    return Outcome.ack();
  }

  /** A newer DPE epoch fences the older DPE's commands (see Note [Fencing]). */
  @EventPattern(DpeStarted.type, { queue: events })
  async dpeStarted(e: CloudEvent<DpeEventData>): Promise<HandlerOutcome> {
    await this.repo.raiseEpoch(`deployable:${e.data!.deployableId}`, e.data!.epoch);
    return Outcome.ack();
  }

  /** One batched list call at the provider for one account (the state tracker's poll). */
  @MessagePattern(ListAccountInstances.type, { queue: Topology.queues.gatewayList })
  async list(e: CloudEvent<ListAccountInstancesData>): Promise<ListAccountInstancesReply> {
    const d = e.data!;
    const at = new Date().toISOString();
    const driver = await this.drivers.forAccount(d.providerAccountId);
    const instances = await driver.list(d.since ? { since: d.since } : undefined);
    return {
      at,
      instances: instances.map((i) => ({
        id: i.id,
        name: i.name,
        state: i.state,
        addresses: i.addresses,
        createdAt: i.createdAt,
        updatedAt: i.updatedAt,
        metadata: i.metadata,
        idempotencyKey: i.idempotencyKey,
      })),
    };
  }

  private async command(
    e: CloudEvent,
    ctx: MessageContext,
    run: () => Promise<unknown>,
  ): Promise<HandlerOutcome> {
    try {
      await run();
      return Outcome.ack();
    } catch (err) {
      const retryAfter =
        err instanceof DriverError && err.retryAfterMs
          ? err.retryAfterMs
          : backoffDelay(ctx.redelivered ? 4 : 1, 250, 10_000);
      this.log.warn({ err: (err as Error).message, type: e.type }, 'command failed');
      return Outcome.failed(err, retryAfter);
    }
  }
}
