import { Injectable } from '@nestjs/common';
import { LaunchesRepository } from './launches.repository';
import { ownerKey } from './launch.types';

/** Note [Fencing] (in the CPE): commands from an older epoch than the owner's current one are refused. */
@Injectable()
export class EpochFence {
  constructor(private readonly repo: LaunchesRepository) {}

  /** Raises the owner's epoch to `epoch`; why the command is refused when a newer epoch was seen. */
  async check(owner: string, epoch: number | undefined): Promise<string | undefined> {
    if (epoch === undefined) return undefined;
    const current = await this.repo.raiseEpoch(ownerKey(owner), epoch);
    return current > epoch ? `stale epoch ${epoch}: ${ownerKey(owner)} is at epoch ${current}` : undefined;
  }
}
