import { DynamicModule, Inject, Module } from '@nestjs/common';
import { HandlerOutcome, Outcome } from '@nephele/bus';
import {
  CloudEvent,
  DeployableConfigChanged,
  DeployableConfigChangedData,
  DpeControl,
  DpeControlData,
  InstanceStateChanged,
  LaunchFailed,
  LaunchSucceeded,
  Topology,
} from '@nephele/contracts';
import { BusConsumer, EventPattern } from '@nephele/service-kit';

/** What the consumer hands its host (the DpeHost): it holds the DPEs, the consumer only routes. */
export interface DpeHostPort {
  /** An instance event: to the DPE that owns the instance, if it runs here. */
  instanceEvent(e: CloudEvent): void;
  configChanged(d: DeployableConfigChangedData): void;
  control(d: DpeControlData): Promise<void>;
}

export const DPE_HOST = Symbol('DPE_HOST');

/**
 * The bus adapter of a DPE host: one exclusive queue for the instance events and config changes of
 * every DPE it runs, one for the CPE's start/stop commands (every host hears every command and acts
 * on those naming its worker id). Deliveries are acked once handed over: a DPE acts on its own
 * reads of the state (the event only wakes it), so a lost wake-up is repaired by its next pass.
 */
@BusConsumer()
export class DpeHostConsumer {
  constructor(@Inject(DPE_HOST) private readonly host: DpeHostPort) {}

  @EventPattern(LaunchSucceeded.type, { queue: Topology.queues.dpeWorkerEvents })
  async launchSucceeded(event: CloudEvent): Promise<HandlerOutcome> {
    return this.instance(event);
  }

  @EventPattern(LaunchFailed.type, { queue: Topology.queues.dpeWorkerEvents })
  async launchFailed(event: CloudEvent): Promise<HandlerOutcome> {
    return this.instance(event);
  }

  @EventPattern(InstanceStateChanged.type, { queue: Topology.queues.dpeWorkerEvents })
  async instanceStateChanged(event: CloudEvent): Promise<HandlerOutcome> {
    return this.instance(event);
  }

  @EventPattern(DeployableConfigChanged.type, { queue: Topology.queues.dpeWorkerEvents })
  async deployableConfigChanged(event: CloudEvent<DeployableConfigChangedData>): Promise<HandlerOutcome> {
    this.host.configChanged(event.data!);
    return Outcome.ack();
  }

  @EventPattern(DpeControl.type, { queue: Topology.queues.dpeWorkerControl })
  async dpeControl(event: CloudEvent<DpeControlData>): Promise<HandlerOutcome> {
    await this.host.control(event.data!);
    return Outcome.ack();
  }

  private instance(event: CloudEvent): HandlerOutcome {
    this.host.instanceEvent(event);
    return Outcome.ack();
  }
}

/** The Nest module of one DPE host's consumer (a host is a microservice context of its own). */
@Module({})
export class DpeHostModule {
  static forHost(host: DpeHostPort): DynamicModule {
    return {
      module: DpeHostModule,
      controllers: [DpeHostConsumer],
      providers: [{ provide: DPE_HOST, useValue: host }],
    };
  }
}
