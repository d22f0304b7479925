import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SqlRepository } from '@nephele/persistence';
import { SCALER_DB } from '../scaler.tokens';
import { PolicyRow } from './group.types';

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
 * The I/O of executing policies: schedule claims and firings, execution marks, alarm receipts and
 * the webhook quota. Policy and webhook rows themselves are read and written by GroupsRepository.
 */
@Injectable()
export class PoliciesRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  /**
   * Claims up to `limit` policies due at `now` that no other transaction holds (`FOR UPDATE SKIP
   * LOCKED`); with `policyId` only that one; never those in `skip`.
   */
  claimDue(
    tx: EntityManager,
    now: Date,
    policyId: string | undefined,
    skip: readonly string[],
    limit: number,
  ): Promise<PolicyRow[]> {
    return tx.query(
      `SELECT id, group_id, name, type, cooldown_ms, change, change_percent, desired_capacity, args,
         last_executed_at, last_fired_at, next_firing_at, version, created_at
       FROM scaler.policies WHERE next_firing_at <= $1 AND ($2::uuid IS NULL OR id = $2)
         AND NOT (id = ANY($3::uuid[]))
       ORDER BY next_firing_at LIMIT ${Math.trunc(limit)} FOR UPDATE SKIP LOCKED`,
      [now, policyId ?? null, skip],
    );
  }

  /**
   * Inserts a pending firing per policy (in policy-id order); returns the policies whose firing
   * this transaction inserted (another replica may have fired the same time already).
   */
  async claimFirings(tx: EntityManager, firings: readonly { id: string; at: Date }[]): Promise<Set<string>> {
    if (!firings.length) return new Set();
    const rows: { policy_id: string }[] = await tx.query(
      `INSERT INTO scaler.schedule_firings (policy_id, scheduled_at, outcome)
       SELECT p, t, 'pending' FROM unnest($1::uuid[], $2::timestamptz[]) AS f(p, t) ORDER BY p
       ON CONFLICT DO NOTHING RETURNING policy_id`,
      [firings.map((f) => f.id), firings.map((f) => f.at)],
    );
    return new Set(rows.map((r) => r.policy_id));
  }

  async recordFiringOutcomes(tx: EntityManager, results: readonly FiringOutcome[]): Promise<void> {
    if (!results.length) return;
    await tx.query(
      `UPDATE scaler.schedule_firings f SET outcome = r.o, executed_at = clock_timestamp()
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS r(p, t, o)
       WHERE f.policy_id = r.p AND f.scheduled_at = r.t`,
      [results.map((r) => r.id), results.map((r) => r.at), results.map((r) => r.outcome)],
    );
  }

  /** Moves each policy on to its next firing, unless it was changed meanwhile (its version). */
  async advanceSchedules(tx: EntityManager, rows: readonly ScheduleAdvance[]): Promise<void> {
    await tx.query(
      `UPDATE scaler.policies p SET next_firing_at = u.n,
         last_fired_at = GREATEST(COALESCE(p.last_fired_at, u.f), u.f)
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[], $4::int[]) AS u(id, n, f, v)
       WHERE p.id = u.id AND p.version = u.v`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.next),
        rows.map((r) => r.firedAt),
        rows.map((r) => r.version),
      ],
    );
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
