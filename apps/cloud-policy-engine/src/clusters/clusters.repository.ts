import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { CPE_DB } from '../cpe.tokens';
import { TemplateOutput } from './template.util';

export interface ClusterRow {
  id: string;
  project: string;
  name: string;
  appliance_id: string;
  appliance_name: string;
  implementation_id: string;
  template_version: string;
  deployable_id: string | null;
  parameters: Record<string, unknown>;
  outputs: TemplateOutput[];
  credentials: { users: { username: string; sealed: unknown }[] } | null;
  created_at: Date;
}

export type NewCluster = Omit<ClusterRow, 'deployable_id' | 'created_at'>;

/** The `cpe.clusters` table. */
@Injectable()
export class ClustersRepository extends SqlRepository {
  constructor(@Inject(CPE_DB) db: DataSource) {
    super(db);
  }

  /** Inserts a cluster; false when the project already has one of that name. */
  async insert(c: NewCluster): Promise<boolean> {
    try {
      await this.db.query(
        `INSERT INTO cpe.clusters (id, project, name, appliance_id, appliance_name, implementation_id, template_version, parameters, outputs, credentials)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9::jsonb,$10::jsonb)`,
        [
          c.id,
          c.project,
          c.name,
          c.appliance_id,
          c.appliance_name,
          c.implementation_id,
          c.template_version,
          JSON.stringify(c.parameters),
          JSON.stringify(c.outputs),
          c.credentials ? JSON.stringify(c.credentials) : null,
        ],
      );
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === '23505') return false;
      throw e;
    }
  }

  async setDeployable(id: string, deployableId: string): Promise<void> {
    await this.db.query(`UPDATE cpe.clusters SET deployable_id = $2 WHERE id = $1`, [id, deployableId]);
  }

  async delete(id: string): Promise<void> {
    await this.db.query(`DELETE FROM cpe.clusters WHERE id = $1`, [id]);
  }

  /** By id or name; `project` null = any project. */
  async find(ref: string, project: string | null): Promise<ClusterRow[]> {
    const isId = /^[0-9a-f-]{36}$/i.test(ref);
    return this.db.query(
      `SELECT * FROM cpe.clusters WHERE ${isId ? 'id = $1::uuid' : 'name = $1'} AND ($2::text IS NULL OR project = $2)`,
      [ref, project],
    );
  }

  /** `project` null = every project. */
  list(project: string | null): Promise<ClusterRow[]> {
    return this.db.query(
      `SELECT * FROM cpe.clusters WHERE ($1::text IS NULL OR project = $1) ORDER BY created_at LIMIT 1000`,
      [project],
    );
  }
}
