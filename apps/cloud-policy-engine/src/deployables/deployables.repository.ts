import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DeployableDocument, newAgentKey } from '@nephele/contracts';
import { returnedRows, SqlRepository } from '@nephele/persistence';
import { CPE_DB } from '../cpe.tokens';

export interface DeployableRow {
  id: string;
  project: string;
  name: string;
  desired: 'started' | 'stopped';
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface LiveRow {
  epoch: number;
  status: string;
  reason: string | null;
  observed: unknown;
  updated_at: Date;
}

export interface RegistryRow {
  deployable_id: string;
  epoch: number;
  worker_id: string | null;
  pid: number | null;
  runtime: string | null;
  state: string;
  restarts: number;
  started_at: Date | null;
  next_start_at: Date | null;
  last_reason: string | null;
  /** The deployable's project (joined in), so the DPE lifecycle events are filed under it. */
  project: string | null;
}

@Injectable()
export class DeployablesRepository extends SqlRepository {
  constructor(@Inject(CPE_DB) db: DataSource) {
    super(db);
  }

  async insert(
    tx: EntityManager,
    d: { id: string; project: string; name: string; desired: string },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO cpe.deployables (id, project, name, desired, agent_key) VALUES ($1, $2, $3, $4, $5)`,
      [d.id, d.project, d.name, d.desired, newAgentKey()],
    );
    await tx.query(`INSERT INTO cpe.dpe_registry (deployable_id) VALUES ($1)`, [d.id]);
  }

  async addVersion(
    tx: EntityManager,
    v: {
      id: string;
      version: number;
      format: string;
      source: string;
      document: DeployableDocument;
      by: string;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO cpe.deployable_versions (deployable_id, version, format, source, document, created_by) VALUES ($1, $2, $3, $4, $5::jsonb, $6)`,
      [v.id, v.version, v.format, v.source, JSON.stringify(v.document), v.by],
    );
  }

  async setVersion(tx: EntityManager, id: string, version: number): Promise<void> {
    await tx.query(`UPDATE cpe.deployables SET version = $2, updated_at = now() WHERE id = $1`, [
      id,
      version,
    ]);
  }

  async setDesired(tx: EntityManager, id: string, desired: 'started' | 'stopped'): Promise<void> {
    await tx.query(`UPDATE cpe.deployables SET desired = $2, updated_at = now() WHERE id = $1`, [
      id,
      desired,
    ]);
  }

  async get(id: string, tx?: EntityManager): Promise<DeployableRow | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const r: DeployableRow[] = await (tx ?? this.db).query(
      `SELECT id, project, name, desired, version, created_at, updated_at FROM cpe.deployables WHERE id = $1`,
      [id],
    );
    return r[0];
  }

  async byName(project: string | undefined, name: string): Promise<DeployableRow[]> {
    return this.db.query(
      `SELECT id, project, name, desired, version, created_at, updated_at FROM cpe.deployables WHERE name = $1 AND ($2::text IS NULL OR project = $2) ORDER BY created_at`,
      [name, project ?? null],
    );
  }

  async list(
    project: string | undefined,
    afterId: string | undefined,
    limit: number,
  ): Promise<DeployableRow[]> {
    return this.db.query(
      `SELECT id, project, name, desired, version, created_at, updated_at FROM cpe.deployables WHERE ($1::text IS NULL OR project = $1) AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
      [project ?? null, afterId ?? null, limit],
    );
  }

  async version(
    id: string,
    version: number,
  ): Promise<
    | { document: DeployableDocument; format: string; source: string; created_at: Date; created_by: string }
    | undefined
  > {
    const r = await this.db.query(
      `SELECT document, format, source, created_at, created_by FROM cpe.deployable_versions WHERE deployable_id = $1 AND version = $2`,
      [id, version],
    );
    return r[0];
  }

  async versions(
    id: string,
  ): Promise<{ version: number; format: string; created_at: Date; created_by: string }[]> {
    return this.db.query(
      `SELECT version, format, created_at, created_by FROM cpe.deployable_versions WHERE deployable_id = $1 ORDER BY version`,
      [id],
    );
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`DELETE FROM cpe.deployables WHERE id = $1`, [id]);
  }

  async live(id: string): Promise<LiveRow | undefined> {
    const r: LiveRow[] = await this.db.query(
      `SELECT epoch, status, reason, observed, updated_at FROM cpe.deployable_live WHERE deployable_id = $1`,
      [id],
    );
    return r[0];
  }

  async lives(ids: string[]): Promise<Map<string, LiveRow>> {
    if (!ids.length) return new Map();
    const r: (LiveRow & { deployable_id: string })[] = await this.db.query(
      `SELECT deployable_id, epoch, status, reason, observed, updated_at FROM cpe.deployable_live WHERE deployable_id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(r.map((x) => [x.deployable_id, x]));
  }

  /**
   * Records a DPE's report, ignoring one from an older epoch than the last recorded. A report with
   * `observed` (a full snapshot) sets status and assemblies together; a bare status change (no
   * snapshot) only counts until the epoch's first snapshot, since reports are handled concurrently
   * and a status applied alone could show `running` beside an older snapshot's assemblies.
   */
  async saveLive(
    id: string,
    epoch: number,
    status: string,
    reason: string | null,
    observed: unknown | null,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO cpe.deployable_live (deployable_id, epoch, status, reason, observed) VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (deployable_id) DO UPDATE SET epoch = EXCLUDED.epoch, status = EXCLUDED.status, reason = EXCLUDED.reason,
         observed = COALESCE(EXCLUDED.observed, cpe.deployable_live.observed), updated_at = now()
       WHERE cpe.deployable_live.epoch < EXCLUDED.epoch
          OR (cpe.deployable_live.epoch = EXCLUDED.epoch
              AND (EXCLUDED.observed IS NOT NULL OR cpe.deployable_live.observed IS NULL))`,
      [id, epoch, status, reason, observed === null ? null : JSON.stringify(observed)],
    );
  }

  async exists(id: string): Promise<boolean> {
    const r: unknown[] = await this.db.query(`SELECT 1 FROM cpe.deployables WHERE id = $1`, [id]);
    return r.length > 0;
  }

  /** The deployable's agent key (Note [Agent identity]); made now for rows older than the column. */
  async agentKey(id: string): Promise<string | undefined> {
    const r = returnedRows<{ agent_key: string }>(
      await this.db.query(
        `UPDATE cpe.deployables SET agent_key = COALESCE(agent_key, $2) WHERE id = $1 RETURNING agent_key`,
        [id, newAgentKey()],
      ),
    );
    return r[0]?.agent_key;
  }

  /** The user acts (retry, start): the DPE's failure history and terminal failure are forgotten. */
  async resetDpeFailures(id: string): Promise<void> {
    await this.db.query(
      `UPDATE cpe.dpe_state SET state = jsonb_build_object('incarnations', COALESCE(state->'incarnations', '{}'::jsonb)), updated_at = now()
       WHERE deployable_id = $1`,
      [id],
    );
  }

  // DPE state (failure history, incarnations), fenced by epoch.
  async dpeState(id: string): Promise<Record<string, unknown> | null> {
    const r: { state: Record<string, unknown> }[] = await this.db.query(
      `SELECT state FROM cpe.dpe_state WHERE deployable_id = $1`,
      [id],
    );
    return r[0]?.state ?? null;
  }

  async putDpeState(
    id: string,
    epoch: number,
    state: Record<string, unknown>,
  ): Promise<{ ok: boolean; reason?: string }> {
    const reg = await this.registry(id);
    if (!reg) return { ok: false, reason: 'the deployable no longer exists' };
    if (epoch < reg.epoch)
      return { ok: false, reason: `stale epoch ${epoch}: the deployable is at epoch ${reg.epoch}` };
    await this.db.query(
      `INSERT INTO cpe.dpe_state (deployable_id, epoch, state) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (deployable_id) DO UPDATE SET epoch = EXCLUDED.epoch, state = EXCLUDED.state, updated_at = now()
       WHERE cpe.dpe_state.epoch <= EXCLUDED.epoch`,
      [id, epoch, JSON.stringify(state)],
    );
    return { ok: true };
  }

  // DPE registry
  async registry(id: string): Promise<RegistryRow | undefined> {
    const r: RegistryRow[] = await this.db.query(
      `SELECT r.*, d.project FROM cpe.dpe_registry r LEFT JOIN cpe.deployables d ON d.id = r.deployable_id
       WHERE r.deployable_id = $1`,
      [id],
    );
    return r[0];
  }

  async registryAll(): Promise<(RegistryRow & { desired: string })[]> {
    return this.db.query(
      `SELECT r.*, d.desired, d.project FROM cpe.dpe_registry r JOIN cpe.deployables d ON d.id = r.deployable_id`,
    );
  }

  /** Takes the next epoch for a deployable (fencing out every DPE before it). */
  async nextEpoch(tx: EntityManager, id: string): Promise<number> {
    const r = returnedRows<{ epoch: number }>(
      await tx.query(
        `UPDATE cpe.dpe_registry SET epoch = epoch + 1 WHERE deployable_id = $1 RETURNING epoch`,
        [id],
      ),
    );
    return r[0]!.epoch;
  }

  async markRegistry(
    id: string,
    f: Partial<Pick<RegistryRow, 'worker_id' | 'pid' | 'runtime' | 'state' | 'restarts' | 'last_reason'>> & {
      started?: boolean;
      nextStartAt?: Date | null;
    },
  ): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [k, v] of Object.entries(f)) {
      if (k === 'started') {
        if (v) sets.push('started_at = now()');
      } else if (k === 'nextStartAt') {
        params.push(v);
        sets.push(`next_start_at = $${params.length}`);
      } else {
        params.push(v);
        sets.push(`${k} = $${params.length}`);
      }
    }
    if (sets.length)
      await this.db.query(`UPDATE cpe.dpe_registry SET ${sets.join(', ')} WHERE deployable_id = $1`, params);
  }
}
