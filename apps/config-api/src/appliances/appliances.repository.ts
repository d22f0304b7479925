import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { CONFIG_API_DB } from '../config-api.tokens';

export interface ApplianceRow {
  id: string;
  name: string;
  project_id: string;
}

export interface ImplementationRow {
  id: string;
  provider_id: string;
  template_version: string;
  template_format: string;
  template: string;
  parameters: unknown;
  outputs: unknown;
}

/** What the appliance resolver reads (the generic store writes these tables). */
@Injectable()
export class AppliancesRepository extends SqlRepository {
  constructor(@Inject(CONFIG_API_DB) db: DataSource) {
    super(db);
  }

  /** Up to two appliances with this id (byId) or name, in the project when given, oldest first. */
  async findAppliances(ref: string, byId: boolean, project: string | null): Promise<ApplianceRow[]> {
    return this.db.query(
      `SELECT id, name, project_id FROM config_api.appliances
       WHERE ${byId ? 'id = $1' : 'name = $1'} AND ($2::uuid IS NULL OR project_id = $2) ORDER BY created_at LIMIT 2`,
      [ref, project],
    );
  }

  /** The implementation `implementationId`, or the newest one, of an appliance. */
  async implementation(
    applianceId: string,
    implementationId: string | null,
  ): Promise<ImplementationRow | undefined> {
    const rows: ImplementationRow[] = await this.db.query(
      `SELECT id, provider_id, template_version, template_format, template, parameters, outputs
       FROM config_api.appliance_implementations
       WHERE appliance_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY created_at DESC LIMIT 1`,
      [applianceId, implementationId],
    );
    return rows[0];
  }
}
