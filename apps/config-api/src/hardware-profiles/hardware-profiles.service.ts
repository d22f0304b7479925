import { Injectable } from '@nestjs/common';
import { Amount, HardwareProfileSpec, matchHardwareProfile, ProviderProfileSpec } from '@nephele/broker';
import { Principal, ProblemException } from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { canSee } from '../common/scope.util';
import { PoolFamiliesRepository } from '../pool-families/pool-families.repository';
import { HardwareProfilesRepository } from './hardware-profiles.repository';
import { HARDWARE_PROFILES } from './hardware-profiles.resource';

export interface ProfileCandidate extends ProviderProfileSpec {
  providerId: string;
  providerName: string;
  name: string;
  /** With `?pool=`: the pool's accounts through which this profile can be launched. */
  accountIds?: string[];
}

export interface MatchesView {
  hardwareProfileId: string;
  pool: string | null;
  chosen: ProfileCandidate | null;
  matches: ProfileCandidate[];
  rejections: { profileId: string; reason: string }[];
}

@Injectable()
export class HardwareProfilesService extends ResourceService {
  constructor(
    repo: ResourceRepository,
    changes: ChangeRecorder,
    private readonly families: PoolFamiliesRepository,
    private readonly profiles: HardwareProfilesRepository,
  ) {
    super(repo, changes, HARDWARE_PROFILES);
  }

  /**
   * Which provider profiles satisfy the hardware profile and which one would be chosen (smallest,
   * then cheapest: @nephele/broker matchHardwareProfile). With a pool, only the profiles of the
   * providers its family's accounts use; profiles of disabled providers or reachable only through
   * disabled accounts are rejected with that reason.
   */
  async matches(p: Principal, id: string, poolId?: string): Promise<MatchesView> {
    const hw = await this.get(p, id);
    const accountsByProvider = new Map<string, { id: string; enabled: boolean }[]>();
    if (poolId !== undefined) {
      const pool = await this.families.pool(poolId);
      if (!pool || !canSee(p, pool.project_id) || pool.project_id !== hw.project) {
        throw ProblemException.badRequest('validation failed', [
          { field: 'pool', message: `no pool with id ${poolId} in the hardware profile's project` },
        ]);
      }
      const accounts = await this.families.familyAccounts(pool.family_id);
      for (const a of accounts) {
        accountsByProvider.set(a.provider_id, [...(accountsByProvider.get(a.provider_id) ?? []), a]);
      }
    }
    const rows = await this.profiles.providerProfiles(
      poolId !== undefined ? [...accountsByProvider.keys()] : undefined,
    );
    const rejections: { profileId: string; reason: string }[] = [];
    const usable: ProfileCandidate[] = [];
    for (const r of rows) {
      const candidate: ProfileCandidate = {
        id: r.id,
        providerId: r.provider_id,
        providerName: r.provider_name,
        name: r.name,
        cpu: r.cpu,
        memoryMb: r.memory_mb,
        storageGb: r.storage_gb,
        arch: r.arch,
        costPerHour: r.cost_per_hour === null ? null : Number(r.cost_per_hour),
      };
      if (!r.provider_enabled) {
        rejections.push({ profileId: r.id, reason: `provider ${r.provider_name} is disabled` });
        continue;
      }
      if (poolId !== undefined) {
        const enabled = (accountsByProvider.get(r.provider_id) ?? []).filter((a) => a.enabled);
        if (!enabled.length) {
          rejections.push({
            profileId: r.id,
            reason: `the pool's accounts at provider ${r.provider_name} are disabled`,
          });
          continue;
        }
        candidate.accountIds = enabled.map((a) => a.id);
      }
      usable.push(candidate);
    }
    const spec: HardwareProfileSpec = {
      cpu: (hw.cpu as Amount | null) ?? undefined,
      memoryMb: (hw.memoryMb as Amount | null) ?? undefined,
      storageGb: (hw.storageGb as Amount | null) ?? undefined,
      arch: (hw.arch as string | null) ?? undefined,
    };
    const result = matchHardwareProfile(spec, usable);
    return {
      hardwareProfileId: hw.id,
      pool: poolId ?? null,
      chosen: result.chosen ?? null,
      matches: result.matches,
      rejections: [...rejections, ...result.rejections],
    };
  }
}
