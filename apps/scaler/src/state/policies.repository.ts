import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { SCALER_DB } from '../scaler.tokens';
import { PlannerGroupRow, PolicyRow } from './group.types';

/** One schedule firing's outcome, as `recordFiringOutcomes` stores it. */
export interface FiringOutcome {
  readonly id: string;
  readonly at: Date;
  readonly outcome: string;
}

/** Where a looked-at scheduled policy moves on to (`next` null: no further firing). */
export interface ScheduleAdvance {
  readonly id: string;
  readonly next: Date | null;
  readonly firedAt: Date;
  readonly version: number;
}

/**
 * A due policy claimed with its group (both locked): the policy row, the group's planning columns
 * and the latest firing already recorded for the policy (null when none).
 */
export interface ClaimedFiring {
  readonly policy: PolicyRow;
  readonly group: PlannerGroupRow;
  readonly lastRecorded: Date | null;
}

// The statements of a firing batch, their parameters numbered from `o + 1`.
const FIRINGS_SQL = (o: number) =>
  `INSERT INTO scaler.schedule_firings (policy_id, scheduled_at, outcome, executed_at)
   SELECT p, t, o, clock_timestamp() FROM unnest($${o + 1}::uuid[], $${o + 2}::timestamptz[], $${o + 3}::text[]) AS x(p, t, o)
   ORDER BY p ON CONFLICT DO NOTHING`;
const ADVANCE_SQL = (o: number) =>
  `UPDATE scaler.policies p SET next_firing_at = u.n,
     last_fired_at = GREATEST(COALESCE(p.last_fired_at, u.f), u.f),
     last_executed_at = CASE WHEN u.e THEN $${o + 6}::timestamptz ELSE p.last_executed_at END
   FROM unnest($${o + 1}::uuid[], $${o + 2}::timestamptz[], $${o + 3}::timestamptz[], $${o + 4}::int[], $${o + 5}::bool[]) AS u(id, n, f, v, e)
   WHERE p.id = ANY($${o + 1}::uuid[]) AND p.id = u.id AND p.version = u.v`;
const SCALE_SQL = (o: number) =>
  `UPDATE scaler.groups g SET desired = u.d, last_scaled_at = $${o + 3}, converge_after = now(), updated_at = now()
   FROM unnest($${o + 1}::uuid[], $${o + 2}::int[]) AS u(id, d) WHERE g.id = ANY($${o + 1}::uuid[]) AND g.id = u.id`;

/** What one batch of schedule firings writes (`recordFiringBatch`). */
export interface FiringBatchWrite {
  /** One firing row per policy, with its final outcome. */
  readonly firings: readonly FiringOutcome[];
  /** Every claimed policy's next firing (and, for executed ones, `executedAt`). */
  readonly advances: readonly (ScheduleAdvance & { readonly executed: boolean })[];
  /** New desired capacity of the groups that scaled. */
  readonly desired: ReadonlyMap<string, number>;
  readonly at: Date;
}

/**
 * The I/O of executing policies: schedule claims and firings, execution marks, alarm receipts and
 * the webhook quota. Policy and webhook rows themselves are read and written by GroupsRepository.
 */
@Injectable()
export class PoliciesRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  /**
   * Claims up to `limit` policies due at `now` together with their groups, locking both and
   * skipping any row another transaction holds (`FOR UPDATE OF p, g SKIP LOCKED`: this never
   * waits, so it cannot deadlock with the paths that lock a group and then wait for its policy);
   * with `policyId` only that one; never those in `skip`. One statement instead of a claim, a
   * group lock and a policy lock per batch (see Note [Schedules across replicas]).
   */
  async claimDueWithGroups(
    tx: EntityManager,
    now: Date,
    policyId: string | undefined,
    skip: readonly string[],
    limit: number,
  ): Promise<ClaimedFiring[]> {
    const rows: (PolicyRow & {
      g_project: string | null;
      g_min: number;
      g_max: number;
      g_cooldown_ms: string | number;
      g_desired: number;
      g_paused: boolean;
      g_deleting: boolean;
      g_last_scaled_at: Date | null;
      g_termination_policy: PlannerGroupRow['termination_policy'];
      last_recorded: Date | null;
    })[] = await tx.query(
      `SELECT p.id, p.group_id, p.name, p.type, p.cooldown_ms, p.change, p.change_percent, p.desired_capacity,
         p.args, p.last_executed_at, p.last_fired_at, p.next_firing_at, p.version, p.created_at,
         g.project AS g_project, g.min_entities AS g_min, g.max_entities AS g_max, g.cooldown_ms AS g_cooldown_ms,
         g.desired AS g_desired, g.paused AS g_paused, g.deleting AS g_deleting,
         g.last_scaled_at AS g_last_scaled_at, g.termination_policy AS g_termination_policy,
         (SELECT max(f.scheduled_at) FROM scaler.schedule_firings f WHERE f.policy_id = p.id) AS last_recorded
       FROM scaler.policies p JOIN scaler.groups g ON g.id = p.group_id
       WHERE p.next_firing_at <= $1 AND ($2::uuid IS NULL OR p.id = $2) AND NOT (p.id = ANY($3::uuid[]))
       ORDER BY p.next_firing_at LIMIT ${Math.trunc(limit)} FOR UPDATE OF p, g SKIP LOCKED`,
      [now, policyId ?? null, skip],
    );
    return rows.map((r) => ({
      policy: {
        id: r.id,
        group_id: r.group_id,
        name: r.name,
        type: r.type,
        cooldown_ms: r.cooldown_ms,
        change: r.change,
        change_percent: r.change_percent,
        desired_capacity: r.desired_capacity,
        args: r.args,
        last_executed_at: r.last_executed_at,
        last_fired_at: r.last_fired_at,
        next_firing_at: r.next_firing_at,
        version: r.version,
        created_at: r.created_at,
      },
      group: {
        id: r.group_id,
        project: r.g_project,
        min_entities: r.g_min,
        max_entities: r.g_max,
        cooldown_ms: r.g_cooldown_ms,
        desired: r.g_desired,
        paused: r.g_paused,
        deleting: r.g_deleting,
        last_scaled_at: r.g_last_scaled_at,
        termination_policy: r.g_termination_policy,
      },
      lastRecorded: r.last_recorded,
    }));
  }

  /**
   * Writes a claimed batch's firings: the firing rows with their outcomes (executed_at is the
   * statement's clock), each policy's next firing (and the start of its own cooldown when it
   * executed), and the groups' new desired capacity (due for convergence). `all` in one statement;
   * a staged batch (Note [Staged firings]) writes the `changes` ahead and the `firings` at its time.
   */
  async recordFiringBatch(
    tx: EntityManager,
    w: FiringBatchWrite,
    part: 'all' | 'changes' | 'firings' = 'all',
  ): Promise<void> {
    const a = w.advances;
    // Timestamps as ISO strings: node-postgres formats Date parameters slowly (local time zone).
    // `= ANY` beside each join: the rows are found by primary key instead of by hashing the table.
    const iso = (d: Date | null) => d && d.toISOString();
    const at = iso(w.at);
    const firings = [
      w.firings.map((r) => r.id),
      w.firings.map((r) => iso(r.at)),
      w.firings.map((r) => r.outcome),
    ];
    const changes = [
      ...[a.map((r) => r.id), a.map((r) => iso(r.next)), a.map((r) => iso(r.firedAt))],
      ...[a.map((r) => r.version), a.map((r) => r.executed), at],
      ...[[...w.desired.keys()], [...w.desired.values()], at],
    ];
    if (part === 'firings') await tx.query(FIRINGS_SQL(0), firings);
    else if (part === 'changes') await tx.query(`WITH p AS (${ADVANCE_SQL(0)}) ${SCALE_SQL(6)}`, changes);
    else
      await tx.query(`WITH f AS (${FIRINGS_SQL(0)}), p AS (${ADVANCE_SQL(3)}) ${SCALE_SQL(9)}`, [
        ...firings,
        ...changes,
      ]);
  }

  /** Starts the policies' own cooldown. */
  async markExecuted(tx: EntityManager, ids: readonly string[], at: Date): Promise<void> {
    if (!ids.length) return;
    await tx.query(`UPDATE scaler.policies SET last_executed_at = $2 WHERE id = ANY($1::uuid[])`, [ids, at]);
  }

  /** The group a policy belongs to (unlocked: the caller locks the group, then the policy). */
  async groupOf(tx: EntityManager, policyId: string): Promise<string | undefined> {
    const rows: { group_id: string }[] = await tx.query(
      `SELECT group_id FROM scaler.policies WHERE id = $1`,
      [policyId],
    );
    return rows[0]?.group_id;
  }

  async countWebhooks(tx: EntityManager, policyId: string): Promise<number> {
    const rows: { n: number }[] = await tx.query(
      `SELECT count(*)::int AS n FROM scaler.webhooks WHERE policy_id = $1`,
      [policyId],
    );
    return rows[0]!.n;
  }

  /** Records an alarm's receipt; false when it was received already (a duplicate). */
  async recordAlarmReceipt(tx: EntityManager, key: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO scaler.alarm_receipts (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key`,
      [key],
    );
    return rows.length > 0;
  }
}
