import { HandlerOutcome, Outcome } from '@nephele/bus';
import {
  CloudEvent,
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  DeployableObserved,
  DeployableObservedData,
  DeployableRefData,
  DeployableStatusChanged,
  DeployableStatusChangedData,
  DpeStatePutData,
  Topology,
} from '@nephele/contracts';
import { BusConsumer, EventPattern, MessagePattern } from '@nephele/service-kit';
import { DeployablesRepository } from '../deployables/deployables.repository';
import { DeployablesService } from '../deployables/deployables.service';

const reports = Topology.queues.cpeDpeReports;

/** The CPE side of the CPE ↔ DPE contract: config and state requests, and the DPEs' reports. */
@BusConsumer()
export class DpeLinkConsumer {
  constructor(
    private readonly deployables: DeployablesService,
    private readonly repo: DeployablesRepository,
  ) {}

  @MessagePattern(CpeDeployableGet.type, { queue: Topology.queues.cpeDpeConfig })
  async config(e: CloudEvent<DeployableRefData>): Promise<unknown> {
    return this.deployables.forDpe(e.data!.deployableId);
  }

  @MessagePattern(CpeDpeStateGet.type, { queue: Topology.queues.cpeDpeState })
  async state(e: CloudEvent<DeployableRefData>): Promise<unknown> {
    return { state: await this.repo.dpeState(e.data!.deployableId) };
  }

  @MessagePattern(CpeDpeStatePut.type, { queue: Topology.queues.cpeDpeState })
  async putState(e: CloudEvent<DpeStatePutData>): Promise<unknown> {
    const d = e.data!;
    return this.repo.putDpeState(d.deployableId, d.epoch, d.state);
  }

  @EventPattern(DeployableObserved.type, { queue: reports })
  async observed(e: CloudEvent<DeployableObservedData>): Promise<HandlerOutcome> {
    const d = e.data!;
    if (await this.repo.exists(d.deployableId))
      await this.repo.saveLive(d.deployableId, d.epoch, d.status, d.reason ?? null, d);
    return Outcome.ack();
  }

  @EventPattern(DeployableStatusChanged.type, { queue: reports })
  async statusChanged(e: CloudEvent<DeployableStatusChangedData>): Promise<HandlerOutcome> {
    const d = e.data!;
    if (await this.repo.exists(d.deployableId))
      await this.repo.saveLive(d.deployableId, d.epoch ?? 0, d.to, d.reason, null);
    return Outcome.ack();
  }
}
