import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Bus, HandlerOutcome, LoggerLike, Outcome } from '@nephele/bus';
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
import { BUS, LOGGER } from '@nephele/service-kit';
import { backoffDelay } from '@nephele/util';
import { DriverPoolService } from '../drivers/driver-pool.service';
import { LaunchesRepository } from './launches.repository';
import { LaunchesService } from './launches.service';

const ACTIONS = {
  [InstanceDestroy.type]: 'destroy',
  [InstanceStart.type]: 'start',
  [InstanceStop.type]: 'stop',
  [InstanceReboot.type]: 'reboot',
} as const;

/** The gateway's bus adapter: instance commands, list requests, and what it must hear about. */
@Injectable()
export class LaunchesConsumer implements OnApplicationBootstrap {
  private readonly log: LoggerLike;
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly launches: LaunchesService,
    private readonly repo: LaunchesRepository,
    private readonly drivers: DriverPoolService,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.subscribe({
      queue: 'iaas-gateway.commands',
      exchange: Topology.commands,
      bindings: [InstanceCreate.type, ...Object.keys(ACTIONS)],
      prefetch: 16,
      handler: (e, ctx) => this.onCommand(e, ctx.redelivered),
    });
    await this.bus.subscribe({
      queue: 'iaas-gateway.instance-events',
      exchange: Topology.events,
      bindings: [InstanceVanished.type, InstanceStateChanged.type, DpeStarted.type],
      prefetch: 32,
      handler: (e) => this.onEvent(e),
    });
    await this.bus.respond('iaas-gateway.list', [ListAccountInstances.type], (e) =>
      this.list(e.data as ListAccountInstancesData),
    );
  }

  private async onCommand(e: CloudEvent, redelivered: boolean): Promise<HandlerOutcome> {
    try {
      if (e.type === InstanceCreate.type) await this.launches.create(e.data as InstanceCreateData);
      else await this.launches.act(ACTIONS[e.type as keyof typeof ACTIONS], e.data as InstanceActionData);
      return Outcome.ack();
    } catch (err) {
      const retryAfter =
        err instanceof DriverError && err.retryAfterMs
          ? err.retryAfterMs
          : backoffDelay(redelivered ? 4 : 1, 250, 10_000);
      this.log.warn({ err: (err as Error).message, type: e.type }, 'command failed');
      return Outcome.failed(err, retryAfter);
    }
  }

  private async onEvent(e: CloudEvent): Promise<HandlerOutcome> {
    if (e.type === InstanceVanished.type)
      await this.repo.markDestroyed((e.data as InstanceVanishedData).instanceId);
    else if (e.type === InstanceStateChanged.type) {
      const d = e.data as InstanceStateChangedData;
      if (d.to === 'terminated') await this.repo.markDestroyed(d.instanceId);
    } else if (e.type === DpeStarted.type) {
      const d = e.data as DpeEventData;
      await this.repo.raiseEpoch(`deployable:${d.deployableId}`, d.epoch);
    }
    return Outcome.ack();
  }

  /** One batched list call at the provider for one account (the state tracker's poll). */
  async list(d: ListAccountInstancesData): Promise<ListAccountInstancesReply> {
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
}
