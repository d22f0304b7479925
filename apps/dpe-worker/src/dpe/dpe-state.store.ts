import { Bus } from '@nephele/bus';
import {
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  createEvent,
  DeployableDocument,
  InstanceQuery,
} from '@nephele/contracts';
import { InstanceView, SavedState, SERVICE } from './dpe.types';

export interface DeployableConfig {
  version: number;
  document: DeployableDocument;
  desired: string;
  project?: string;
  agentKey?: string;
}

/**
 * Where a DPE's state lives outside it: the deployable's configuration and the DPE's saved state
 * in the CPE (saving is fenced by epoch), the instances at the state tracker. All over the bus.
 */
export class DpeStateStore {
  constructor(
    private readonly bus: Bus,
    private readonly deployableId: string,
    private readonly epoch: number,
  ) {}

  /** The deployable's current configuration; null when it no longer exists. */
  config(): Promise<DeployableConfig | null> {
    return this.bus.request<DeployableConfig | null>(
      createEvent(SERVICE, CpeDeployableGet.type, { deployableId: this.deployableId }),
      { timeoutMs: 10_000 },
    );
  }

  /** What a predecessor saved; null when nothing (or the CPE did not answer). */
  load(): Promise<SavedState | null> {
    return this.bus
      .request<{ state: SavedState | null }>(
        createEvent(SERVICE, CpeDpeStateGet.type, { deployableId: this.deployableId }),
        { timeoutMs: 10_000 },
      )
      .then((r) => r.state)
      .catch(() => null);
  }

  /** Saves the state; `{ok: false}` when the CPE refuses it (this DPE's epoch is stale). */
  save(state: SavedState): Promise<{ ok: boolean; reason?: string }> {
    return this.bus.request<{ ok: boolean; reason?: string }>(
      createEvent(SERVICE, CpeDpeStatePut.type, {
        deployableId: this.deployableId,
        epoch: this.epoch,
        state: state as unknown as Record<string, unknown>,
      }),
      { timeoutMs: 10_000 },
    );
  }

  /** Every instance any incarnation of this deployable's assemblies owns (terminated ones too). */
  async instances(): Promise<InstanceView[]> {
    const r = await this.bus.request<{ items: InstanceView[] }>(
      createEvent(SERVICE, InstanceQuery.type, {
        ownerPrefix: `deployable:${this.deployableId}/`,
        includeTerminated: true,
      }),
      { timeoutMs: 10_000 },
    );
    return r.items;
  }
}
