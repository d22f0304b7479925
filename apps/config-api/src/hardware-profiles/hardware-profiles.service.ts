import { Injectable } from '@nestjs/common';
import { Amount, HardwareProfileSpec, matchHardwareProfile, ProviderProfileSpec } from '@nephele/broker';
import { Principal, ProblemException } from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { canSee } from '../common/scope.util';
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

interface ProfileRow {
  id: string;
  provider_id: string;
  provider_name: string;
  provider_enabled: boolean;
  name: string;
  cpu: number;
  memory_mb: number;
  storage_gb: number;
  arch: string;
  cost_per_hour: string | null;
}

@Injectable()
export class HardwareProfilesService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
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
    const db = this.repo.db;
    const accountsByProvider = new Map<string, { id: string; enabled: boolean }[]>();
    if (poolId !== undefined) {
      const pools: { family_id: string; project_id: string }[] = await db.query(
        `SELECT family_id, project_id FROM config_api.pools WHERE id = $1`,
        [poolId],
      );
      const pool = pools[0];
      if (!pool || !canSee(p, pool.project_id) || pool.project_id !== hw.project) {
        throw ProblemException.badRequest('validation failed', [
          { field: 'pool', message: `no pool with id ${poolId} in the hardware profile's project` },
        ]);
      }
      const accounts: { id: string; provider_id: string; enabled: boolean }[] = await db.query(
        `SELECT a.id, a.provider_id, a.enabled FROM config_api.pool_family_accounts fa
         JOIN config_api.provider_accounts a ON a.id = fa.account_id WHERE fa.family_id = $1 ORDER BY a.id`,
        [pool.family_id],
      );
      for (const a of accounts) {
        accountsByProvider.set(a.provider_id, [...(accountsByProvider.get(a.provider_id) ?? []), a]);
      }
    }
    const rows: ProfileRow[] = await db.query(
      `SELECT pp.id, pp.provider_id, pr.name AS provider_name, pr.enabled AS provider_enabled, pp.name, pp.cpu,
              pp.memory_mb, pp.storage_gb, pp.arch, pp.cost_per_hour
       FROM config_api.provider_profiles pp JOIN config_api.providers pr ON pr.id = pp.provider_id
       ${poolId !== undefined ? 'WHERE pp.provider_id = ANY($1::uuid[])' : ''} ORDER BY pp.seq`,
      poolId !== undefined ? [[...accountsByProvider.keys()]] : [],
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
