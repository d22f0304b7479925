import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { advisoryKey, SqlRepository } from '@nephele/persistence';
import { TargetArgs } from '@nephele/scaling';
import { MetricSource, PolicyRow } from '../state/group.types';
import { SCALER_DB } from '../scaler.tokens';

/** A target policy with what its evaluation needs: its group's bounds and the latest observation. */
export interface TargetWork {
  policy_id: string;
  group_id: string;
  project: string | null;
  name: string;
  args: TargetArgs;
  target_state: PolicyRow['target_state'];
  min_entities: number;
  max_entities: number;
  desired: number;
  paused: boolean;
  value: number | null;
  observed_at: Date | null;
}

/** Metric observations and target policies (I/O only). */
@Injectable()
export class MetricsRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  /**
   * Keeps the newest value of a group's metric; an older one arriving late changes nothing.
   * Returns false when the group does not exist.
   */
  async observe(groupId: string, metric: string, value: number, at: Date, source: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO scaler.metric_observations (group_id, metric, value, observed_at, source)
       SELECT id, $2, $3, $4, $5 FROM scaler.groups WHERE id = $1
       ON CONFLICT (group_id, metric) DO UPDATE SET value = excluded.value, observed_at = excluded.observed_at,
         source = excluded.source
       WHERE scaler.metric_observations.observed_at <= excluded.observed_at
       RETURNING group_id`,
      [groupId, metric, value, at, source],
    );
    if (rows.length) return true;
    const g: unknown[] = await this.db.query(`SELECT 1 FROM scaler.groups WHERE id = $1`, [groupId]);
    return g.length > 0;
  }

  /** Takes the evaluation pass's lock for this transaction (one replica evaluates at a time). */
  async tryPassLock(tx: EntityManager): Promise<boolean> {
    const [r]: { ok: boolean }[] = await tx.query(
      `SELECT pg_try_advisory_xact_lock(${advisoryKey('scaler.target-tracking')}) AS ok`,
    );
    return r?.ok === true;
  }

  /** Every target policy of a live group, with its latest observation, groups in id order. */
  targetWork(tx: EntityManager): Promise<TargetWork[]> {
    return tx.query(
      `SELECT p.id AS policy_id, p.group_id, g.project, p.name, p.args, p.target_state, g.min_entities,
         g.max_entities, g.desired, g.paused, o.value, o.observed_at
       FROM scaler.policies p JOIN scaler.groups g ON g.id = p.group_id
       LEFT JOIN scaler.metric_observations o ON o.group_id = p.group_id AND o.metric = p.args->>'metric'
       WHERE p.type = 'target' AND NOT g.deleting
       ORDER BY p.group_id, p.created_at, p.id`,
    );
  }

  async saveStates(tx: EntityManager, ids: string[], states: unknown[]): Promise<void> {
    if (!ids.length) return;
    await tx.query(
      `UPDATE scaler.policies p SET target_state = u.s
       FROM unnest($1::uuid[], $2::jsonb[]) AS u(id, s) WHERE p.id = u.id`,
      [ids, states.map((s) => JSON.stringify(s))],
    );
  }

  /**
   * Sets a group's desired capacity if it is still `before` and the group is not paused (a policy
   * execution in between wins; the next pass sees it). Returns whether it did.
   */
  async scale(
    tx: EntityManager,
    groupId: string,
    policyId: string,
    before: number,
    after: number,
    now: Date,
  ) {
    const rows: unknown[] = await tx.query(
      `UPDATE scaler.groups SET desired = $3, last_scaled_at = $4, converge_after = now(), updated_at = now()
       WHERE id = $1 AND desired = $2 AND NOT paused AND NOT deleting RETURNING id`,
      [groupId, before, after, now],
    );
    if (!rows.length) return false;
    await tx.query(`UPDATE scaler.policies SET last_executed_at = $2 WHERE id = $1`, [policyId, now]);
    return true;
  }

  /** Groups with Prometheus sources. */
  sources(): Promise<{ id: string; metric_sources: MetricSource[] }[]> {
    return this.db.query(
      `SELECT id, metric_sources FROM scaler.groups WHERE metric_sources <> '[]'::jsonb AND NOT deleting`,
    );
  }
}
