import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Bus, Outcome } from '@nephele/bus';
import {
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
import { BUS } from '@nephele/service-kit';
import { DeployablesRepository } from '../deployables/deployables.repository';
import { DeployablesService } from '../deployables/deployables.service';

/** The CPE side of the CPE ↔ DPE contract: config and state requests, and the DPEs' reports. */
@Injectable()
export class DpeLinkConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly deployables: DeployablesService,
    private readonly repo: DeployablesRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond('cloud-policy-engine.dpe-config', [CpeDeployableGet.type], (e) =>
      this.deployables.forDpe((e.data as DeployableRefData).deployableId),
    );
    await this.bus.respond(
      'cloud-policy-engine.dpe-state',
      [CpeDpeStateGet.type, CpeDpeStatePut.type],
      async (e) => {
        if (e.type === CpeDpeStateGet.type)
          return { state: await this.repo.dpeState((e.data as DeployableRefData).deployableId) };
        const d = e.data as DpeStatePutData;
        return this.repo.putDpeState(d.deployableId, d.epoch, d.state);
      },
    );
    await this.bus.subscribe({
      queue: 'cloud-policy-engine.dpe-reports',
      exchange: Topology.events,
      bindings: [DeployableObserved.type, DeployableStatusChanged.type],
      prefetch: 256,
      handler: async (e) => {
        if (e.type === DeployableObserved.type) {
          const d = e.data as DeployableObservedData;
          if (await this.repo.exists(d.deployableId))
            await this.repo.saveLive(d.deployableId, d.epoch, d.status, d.reason ?? null, d);
        } else {
          const d = e.data as DeployableStatusChangedData;
          if (await this.repo.exists(d.deployableId))
            await this.repo.saveLive(d.deployableId, d.epoch ?? 0, d.to, d.reason, null);
        }
        return Outcome.ack();
      },
    });
  }
}
