import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { RefreshSpec, RefreshStatus } from '@nephele/scaling';
import { LaunchConfigView } from './group.types';
import { SCALER_DB } from '../scaler.tokens';

/** A batch in flight, as stored (times RFC 3339). */
export interface RefreshBatchRow {
  startedAt: string;
  retire: string[];
  launch: number;
  /** Launched on top of the desired capacity, before `retire` goes (launchBeforeRetire). */
  surge?: boolean;
}

export interface RefreshRow {
  id: string;
  group_id: string;
  status: RefreshStatus;
  spec: RefreshSpec;
  from_version: number;
  to_version: number;
  /** The launch config a roll-back returns to. */
  from_launch_config: LaunchConfigView;
  batch: RefreshBatchRow | null;
  batches: number;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export const ACTIVE_REFRESH: readonly RefreshStatus[] = ['running', 'paused', 'rolling-back'];
const COLS = `id, group_id, status, spec, from_version, to_version, from_launch_config, batch, batches, reason,
  created_at, updated_at, finished_at`;

type Db = DataSource | EntityManager;

/** Instance refreshes (Note [Instance refresh] in libs/scaling/src/refresh.ts); I/O only. */
@Injectable()
export class RefreshRepository {
  constructor(@Inject(SCALER_DB) readonly db: DataSource) {}

  async active(groupId: string, db: Db = this.db, lock = false): Promise<RefreshRow | undefined> {
    const rows: RefreshRow[] = await db.query(
      `SELECT ${COLS} FROM scaler.refreshes WHERE group_id = $1 AND status = ANY($2::text[])
       ${lock ? 'FOR UPDATE' : ''}`,
      [groupId, ACTIVE_REFRESH],
    );
    return rows[0];
  }

  async latest(groupId: string, db: Db = this.db): Promise<RefreshRow | undefined> {
    const rows: RefreshRow[] = await db.query(
      `SELECT ${COLS} FROM scaler.refreshes WHERE group_id = $1 ORDER BY created_at DESC, id LIMIT 1`,
      [groupId],
    );
    return rows[0];
  }

  async insert(
    tx: EntityManager,
    r: {
      id: string;
      groupId: string;
      spec: RefreshSpec;
      fromVersion: number;
      toVersion: number;
      fromLaunchConfig: LaunchConfigView;
      now: Date;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.refreshes (id, group_id, status, spec, from_version, to_version, from_launch_config,
         created_at, updated_at)
       VALUES ($1,$2,'running',$3::jsonb,$4,$5,$6::jsonb,$7,$7)`,
      [
        r.id,
        r.groupId,
        JSON.stringify(r.spec),
        r.fromVersion,
        r.toVersion,
        JSON.stringify(r.fromLaunchConfig),
        r.now,
      ],
    );
  }

  async update(
    db: Db,
    id: string,
    set: Partial<{
      status: RefreshStatus;
      from_version: number;
      to_version: number;
      batch: RefreshBatchRow | null;
      batches: number;
      reason: string | null;
      finished_at: Date;
    }>,
  ): Promise<void> {
    const cols: string[] = [];
    const params: unknown[] = [id];
    for (const [k, v] of Object.entries(set)) {
      const json = k === 'batch';
      params.push(json && v !== null ? JSON.stringify(v) : v);
      cols.push(`${k} = $${params.length}${json ? '::jsonb' : ''}`);
    }
    cols.push('updated_at = now()');
    await db.query(`UPDATE scaler.refreshes SET ${cols.join(', ')} WHERE id = $1`, params);
  }
}
