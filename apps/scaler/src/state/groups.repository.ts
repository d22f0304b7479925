import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SCALER_DB } from '../scaler.tokens';
import { purgeProcessed } from '@nephele/bus';
import { SCALER_SCHEMA } from '../data-source';
import { returnedRows, SqlRepository } from '@nephele/persistence';
import { LifecycleHook, TerminationPolicy } from '@nephele/scaling';
import {
  GroupRow,
  LaunchConfigView,
  MetricSource,
  TerminationWebhook,
  PolicyInput,
  PolicyRow,
  WebhookRow,
} from './group.types';

const GROUP_COLS = `id, project, name, min_entities, max_entities, cooldown_ms, metadata, ready_webhook, launch_config,
  desired, paused, deleting, last_scaled_at, status, errors, launch_failures, last_launch_error, version, created_at,
  updated_at, metric_sources, launch_version, termination_policy, termination_webhook, lifecycle_hooks`;
const POLICY_COLS = `id, group_id, name, type, cooldown_ms, change, change_percent, desired_capacity, args,
  last_executed_at, last_fired_at, next_firing_at, version, created_at, target_state`;
const WEBHOOK_COLS = `id, group_id, policy_id, name, metadata, created_at`;

export interface NewGroup {
  id: string;
  project: string | null;
  name: string;
  minEntities: number;
  maxEntities: number;
  cooldownMs: number;
  metadata: Record<string, string>;
  readyWebhook: { url: string; secret?: unknown } | null;
  launchConfig: LaunchConfigView;
  desired: number;
  metricSources: MetricSource[];
  terminationPolicy: TerminationPolicy;
  terminationWebhook: TerminationWebhook | null;
}

type Db = DataSource | EntityManager;

/** Groups, their policies and webhooks (I/O only). */
@Injectable()
export class GroupsRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  /** The earliest next firing of any scheduled policy (the scheduler sleeps until then). */
  async nextFiringAt(): Promise<Date | null> {
    const [r]: { t: Date | null }[] = await this.db.query(
      `SELECT min(next_firing_at) AS t FROM scaler.policies WHERE next_firing_at IS NOT NULL`,
    );
    return r?.t ? new Date(r.t) : null;
  }

  /** Housekeeping: processed-message marks and alarm receipts older than `cutoff`. */
  async purgeBefore(cutoff: Date): Promise<void> {
    await purgeProcessed(this.db, SCALER_SCHEMA, cutoff);
    await this.db.query(`DELETE FROM scaler.alarm_receipts WHERE received_at < $1`, [cutoff]);
  }

  async insertGroup(tx: EntityManager, g: NewGroup): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.groups (id, project, name, min_entities, max_entities, cooldown_ms, metadata, ready_webhook,
         launch_config, desired, metric_sources, termination_policy, termination_webhook, converge_after)
       VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8::jsonb,$9::jsonb,$10,$11::jsonb,$12,$13::jsonb, now())`,
      [
        g.id,
        g.project,
        g.name,
        g.minEntities,
        g.maxEntities,
        g.cooldownMs,
        JSON.stringify(g.metadata),
        g.readyWebhook ? JSON.stringify(g.readyWebhook) : null,
        JSON.stringify(g.launchConfig),
        g.desired,
        JSON.stringify(g.metricSources),
        g.terminationPolicy,
        g.terminationWebhook ? JSON.stringify(g.terminationWebhook) : null,
      ],
    );
  }

  async getGroup(id: string, db: Db = this.db): Promise<GroupRow | undefined> {
    const rows: GroupRow[] = await db.query(`SELECT ${GROUP_COLS} FROM scaler.groups WHERE id = $1`, [id]);
    return rows[0];
  }

  async lockGroup(tx: EntityManager, id: string): Promise<GroupRow | undefined> {
    const rows: GroupRow[] = await tx.query(
      `SELECT ${GROUP_COLS} FROM scaler.groups WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  /** Locks groups in id order (the order every multi-group transaction uses). */
  lockGroups(tx: EntityManager, ids: string[]): Promise<GroupRow[]> {
    return tx.query(
      `SELECT ${GROUP_COLS} FROM scaler.groups WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
  }

  lockPolicies(tx: EntityManager, ids: string[]): Promise<PolicyRow[]> {
    return tx.query(
      `SELECT ${POLICY_COLS} FROM scaler.policies WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
  }

  listGroups(project: string | undefined, afterId: string | undefined, limit: number): Promise<GroupRow[]> {
    const params: unknown[] = [limit];
    const where: string[] = [];
    if (project !== undefined) {
      params.push(project);
      where.push(`project = $${params.length}`);
    }
    if (afterId) {
      params.push(afterId);
      where.push(`id > $${params.length}::uuid`);
    }
    return this.db.query(
      `SELECT ${GROUP_COLS} FROM scaler.groups ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id LIMIT $1`,
      params,
    );
  }

  async updateGroup(
    tx: EntityManager,
    id: string,
    set: Partial<{
      name: string;
      min_entities: number;
      max_entities: number;
      cooldown_ms: number;
      metadata: Record<string, string>;
      ready_webhook: unknown;
      launch_config: LaunchConfigView;
      desired: number;
      paused: boolean;
      deleting: boolean;
      last_scaled_at: Date;
      launch_failures: number;
      status: string;
      errors: string[];
      metric_sources: MetricSource[];
      termination_policy: TerminationPolicy;
      termination_webhook: TerminationWebhook | null;
      launch_version: number;
      lifecycle_hooks: LifecycleHook[];
    }>,
    opts: { bumpVersion?: boolean; converge?: boolean } = {},
  ): Promise<void> {
    const cols: string[] = [];
    const params: unknown[] = [id];
    for (const [k, v] of Object.entries(set)) {
      const json = [
        'metadata',
        'ready_webhook',
        'launch_config',
        'errors',
        'metric_sources',
        'termination_webhook',
        'lifecycle_hooks',
      ].includes(k);
      params.push(json && v !== null ? JSON.stringify(v) : v);
      cols.push(`${k} = $${params.length}${json ? '::jsonb' : ''}`);
    }
    if (opts.bumpVersion) cols.push('version = version + 1');
    if (opts.converge) cols.push('converge_after = now()');
    cols.push('updated_at = now()');
    await tx.query(`UPDATE scaler.groups SET ${cols.join(', ')} WHERE id = $1`, params);
  }

  /** Asks for a convergence pass of the group now (level-based: the pass re-reads everything). */
  async requestConverge(db: Db, id: string): Promise<void> {
    await db.query(
      `UPDATE scaler.groups SET converge_after = LEAST(COALESCE(converge_after, now()), now()) WHERE id = $1`,
      [id],
    );
  }

  /** Locks the group row alone (events about one group's servers apply one at a time). */
  async lockGroupRow(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`SELECT 1 FROM scaler.groups WHERE id = $1 FOR UPDATE`, [id]);
  }

  async recordLaunchFailure(tx: EntityManager, id: string, reason: string): Promise<void> {
    await tx.query(
      `UPDATE scaler.groups SET launch_failures = launch_failures + 1, last_launch_error = $2 WHERE id = $1`,
      [id, reason.slice(0, 1000)],
    );
  }

  async resetLaunchFailures(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`UPDATE scaler.groups SET launch_failures = 0 WHERE id = $1 AND launch_failures > 0`, [
      id,
    ]);
  }

  /** Policy executions' new desired capacities (by group id), scaled at `at`; converge now. */
  async setDesiredMany(tx: EntityManager, desired: ReadonlyMap<string, number>, at: Date): Promise<void> {
    if (!desired.size) return;
    await tx.query(
      `UPDATE scaler.groups g SET desired = u.d, last_scaled_at = $3, converge_after = now(), updated_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS u(id, d) WHERE g.id = u.id`,
      [[...desired.keys()], [...desired.values()], at],
    );
  }

  /** The status and errors the last convergence pass left. */
  async setStatus(id: string, status: string, errors: readonly string[]): Promise<void> {
    await this.db.query(`UPDATE scaler.groups SET status = $2, errors = $3::jsonb WHERE id = $1`, [
      id,
      status,
      JSON.stringify(errors),
    ]);
  }

  async deleteGroup(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`DELETE FROM scaler.groups WHERE id = $1`, [id]);
  }

  async countServers(db: Db, groupId: string): Promise<number> {
    const [r]: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM scaler.servers WHERE group_id = $1`,
      [groupId],
    );
    return r!.n;
  }

  // Policies

  async insertPolicy(
    tx: EntityManager,
    id: string,
    groupId: string,
    p: PolicyInput,
    nextFiringAt: Date | undefined,
    createdAt: Date,
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.policies (id, group_id, name, type, cooldown_ms, change, change_percent, desired_capacity,
         args, next_firing_at, last_fired_at, created_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,$11,$11)`,
      [
        id,
        groupId,
        p.name,
        p.type,
        Math.round(p.cooldown * 1000),
        p.change ?? null,
        p.changePercent ?? null,
        p.desiredCapacity ?? null,
        p.args ? JSON.stringify(p.args) : null,
        nextFiringAt ?? null,
        createdAt,
      ],
    );
  }

  async replacePolicy(
    tx: EntityManager,
    id: string,
    p: PolicyInput,
    nextFiringAt: Date | undefined,
    now: Date,
  ): Promise<void> {
    await tx.query(
      `UPDATE scaler.policies SET name = $2, type = $3, cooldown_ms = $4, change = $5, change_percent = $6,
         desired_capacity = $7, args = $8::jsonb, next_firing_at = $9, last_fired_at = $10, version = version + 1,
         updated_at = now()
       WHERE id = $1`,
      [
        id,
        p.name,
        p.type,
        Math.round(p.cooldown * 1000),
        p.change ?? null,
        p.changePercent ?? null,
        p.desiredCapacity ?? null,
        p.args ? JSON.stringify(p.args) : null,
        nextFiringAt ?? null,
        now,
      ],
    );
  }

  listPolicies(groupId: string, db: Db = this.db): Promise<PolicyRow[]> {
    return db.query(
      `SELECT ${POLICY_COLS} FROM scaler.policies WHERE group_id = $1 ORDER BY created_at, id`,
      [groupId],
    );
  }

  async countPolicies(db: Db, groupId: string): Promise<number> {
    const [r]: { n: number }[] = await db.query(
      `SELECT count(*)::int AS n FROM scaler.policies WHERE group_id = $1`,
      [groupId],
    );
    return r!.n;
  }

  async getPolicy(groupId: string, id: string, db: Db = this.db): Promise<PolicyRow | undefined> {
    const rows: PolicyRow[] = await db.query(
      `SELECT ${POLICY_COLS} FROM scaler.policies WHERE group_id = $1 AND id = $2`,
      [groupId, id],
    );
    return rows[0];
  }

  async lockPolicy(tx: EntityManager, id: string): Promise<PolicyRow | undefined> {
    const rows: PolicyRow[] = await tx.query(
      `SELECT ${POLICY_COLS} FROM scaler.policies WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  async markPolicyExecuted(tx: EntityManager, id: string, at: Date): Promise<void> {
    await tx.query(`UPDATE scaler.policies SET last_executed_at = $2 WHERE id = $1`, [id, at]);
  }

  async deletePolicy(tx: EntityManager, id: string): Promise<void> {
    await tx.query(`DELETE FROM scaler.policies WHERE id = $1`, [id]);
  }

  alarmPolicies(): Promise<PolicyRow[]> {
    return this.db.query(`SELECT ${POLICY_COLS} FROM scaler.policies WHERE type = 'alarm' ORDER BY id`);
  }

  // Webhooks (capability URLs)

  async insertWebhook(
    tx: EntityManager,
    w: {
      id: string;
      groupId: string;
      policyId: string;
      name: string;
      metadata: Record<string, string>;
      hash: string;
    },
  ): Promise<WebhookRow> {
    const rows: WebhookRow[] = await tx.query(
      `INSERT INTO scaler.webhooks (id, group_id, policy_id, name, metadata, capability_hash)
       VALUES ($1,$2,$3,$4,$5::jsonb,$6) RETURNING ${WEBHOOK_COLS}`,
      [w.id, w.groupId, w.policyId, w.name, JSON.stringify(w.metadata), w.hash],
    );
    return rows[0]!;
  }

  listWebhooks(policyId: string): Promise<WebhookRow[]> {
    return this.db.query(
      `SELECT ${WEBHOOK_COLS} FROM scaler.webhooks WHERE policy_id = $1 ORDER BY created_at, id`,
      [policyId],
    );
  }

  async getWebhook(policyId: string, id: string): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await this.db.query(
      `SELECT ${WEBHOOK_COLS} FROM scaler.webhooks WHERE policy_id = $1 AND id = $2`,
      [policyId, id],
    );
    return rows[0];
  }

  async deleteWebhook(id: string, tx?: EntityManager): Promise<boolean> {
    const r: unknown = await (tx ?? this.db).query(`DELETE FROM scaler.webhooks WHERE id = $1 RETURNING id`, [
      id,
    ]);
    return returnedRows(r).length > 0;
  }

  async webhookByHash(
    hash: string,
  ): Promise<{ id: string; group_id: string; policy_id: string } | undefined> {
    const rows: { id: string; group_id: string; policy_id: string }[] = await this.db.query(
      `SELECT id, group_id, policy_id FROM scaler.webhooks WHERE capability_hash = $1`,
      [hash],
    );
    return rows[0];
  }
}
