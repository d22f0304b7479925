import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';

export interface ProfileRow {
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

/** What the hardware-profile matcher reads: provider profiles with their provider. */
@Injectable()
export class HardwareProfilesRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** Every provider profile (of these providers only, when given), in creation order. */
  async providerProfiles(providerIds?: string[]): Promise<ProfileRow[]> {
    return this.db.query(
      `SELECT pp.id, pp.provider_id, pr.name AS provider_name, pr.enabled AS provider_enabled, pp.name, pp.cpu,
              pp.memory_mb, pp.storage_gb, pp.arch, pp.cost_per_hour
       FROM config_api.provider_profiles pp JOIN config_api.providers pr ON pr.id = pp.provider_id
       ${providerIds !== undefined ? 'WHERE pp.provider_id = ANY($1::uuid[])' : ''} ORDER BY pp.seq`,
      providerIds !== undefined ? [providerIds] : [],
    );
  }
}
