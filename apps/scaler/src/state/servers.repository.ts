import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { InstanceState } from '@nephele/contracts';
import { LoadBalancerRef, ServerState } from '@nephele/scaling';
import { SCALER_DB } from '../scaler.tokens';
import { returnedRows, SqlRepository } from '@nephele/persistence';

export type ServerRowState = ServerState;

export interface ServerRow {
  id: string;
  group_id: string;
  idempotency_key: string;
  instance_id: string | null;
  state: ServerRowState;
  addresses: string[];
  lb_memberships: LoadBalancerRef[];
  /** Why the server was asked to leave (DELETE …/servers/{id}); it is then treated as broken. */
  evicted: string | null;
  reason: string | null;
  instance_version: number;
  draining_since: Date | null;
  active_at: Date | null;
  notified: boolean;
  destroy_sent_at: Date | null;
  created_at: Date;
  protected: boolean;
  detached: boolean;
  launch_version: number;
  /** Where the server is in its lifecycle (Note [Lifecycle hooks]). */
  lifecycle: ServerLifecycle;
  /** The hook the server waits on (lifecycle PENDING:WAIT or TERMINATING:WAIT). */
  hook_wait: HookWaitRow | null;
}

/**
 * `pending`: launched, its launching hooks not yet considered; `PENDING:WAIT` / `TERMINATING:WAIT`:
 * held by a hook; `in-service`: may join balancers; `TERMINATING:PROCEED`: leaving, no more hooks.
 */
export type ServerLifecycle =
  'pending' | 'PENDING:WAIT' | 'in-service' | 'TERMINATING:WAIT' | 'TERMINATING:PROCEED';

export interface HookWaitRow {
  hook: string;
  kind: 'launching' | 'terminating';
  startedAt: string;
  lastHeartbeatAt?: string;
  /** Why the server was leaving when a terminating hook caught it. */
  reason?: string;
  /** Set by complete-lifecycle-action; the next pass applies it. */
  completed?: 'CONTINUE' | 'ABANDON';
}

const COLS = `id, group_id, idempotency_key, instance_id, state, addresses, lb_memberships, evicted, reason,
  instance_version, draining_since, active_at, notified, destroy_sent_at, created_at, protected, detached, launch_version,
  lifecycle, hook_wait`;

type Db = DataSource | EntityManager;

/** The scaler's own table of group servers (its truth for convergence) and the convergence leases. */
@Injectable()
export class ServersRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  /** An active server starts draining (kept: the first draining time). */
  async markDraining(serverId: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE scaler.servers SET state = 'draining', draining_since = COALESCE(draining_since, $2), updated_at = now()
       WHERE id = $1 AND state = 'active'`,
      [serverId, now],
    );
  }

  list(groupId: string, db: Db = this.db): Promise<ServerRow[]> {
    return db.query(`SELECT ${COLS} FROM scaler.servers WHERE group_id = $1 ORDER BY created_at, id`, [
      groupId,
    ]);
  }

  async get(id: string): Promise<ServerRow | undefined> {
    const rows: ServerRow[] = await this.db.query(`SELECT ${COLS} FROM scaler.servers WHERE id = $1`, [id]);
    return rows[0];
  }

  async lock(tx: EntityManager, id: string): Promise<ServerRow | undefined> {
    const rows: ServerRow[] = await tx.query(`SELECT ${COLS} FROM scaler.servers WHERE id = $1 FOR UPDATE`, [
      id,
    ]);
    return rows[0];
  }

  async lockByKey(tx: EntityManager, key: string): Promise<ServerRow | undefined> {
    const rows: ServerRow[] = await tx.query(
      `SELECT ${COLS} FROM scaler.servers WHERE idempotency_key = $1 FOR UPDATE`,
      [key],
    );
    return rows[0];
  }

  async lockByInstance(tx: EntityManager, instanceId: string): Promise<ServerRow | undefined> {
    const rows: ServerRow[] = await tx.query(
      `SELECT ${COLS} FROM scaler.servers WHERE instance_id = $1 FOR UPDATE`,
      [instanceId],
    );
    return rows[0];
  }

  async insert(
    tx: EntityManager,
    s: { id: string; groupId: string; key: string; createdAt: Date; launchVersion: number },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.servers (id, group_id, idempotency_key, state, created_at, launch_version, lifecycle)
       VALUES ($1,$2,$3,'building',$4,$5,'pending')`,
      [s.id, s.groupId, s.key, s.createdAt, s.launchVersion],
    );
  }

  async update(
    db: Db,
    id: string,
    set: Partial<{
      instance_id: string;
      state: ServerRowState;
      addresses: string[];
      lb_memberships: LoadBalancerRef[];
      evicted: string;
      reason: string;
      instance_version: number;
      draining_since: Date | null;
      active_at: Date;
      notified: boolean;
      destroy_sent_at: Date;
      protected: boolean;
      detached: boolean;
      lifecycle: ServerLifecycle;
      hook_wait: HookWaitRow | null;
    }>,
  ): Promise<void> {
    const cols: string[] = [];
    const params: unknown[] = [id];
    for (const [k, v] of Object.entries(set)) {
      const json = k === 'addresses' || k === 'lb_memberships' || k === 'hook_wait';
      params.push(json && v !== null ? JSON.stringify(v) : v);
      cols.push(`${k} = $${params.length}${json ? '::jsonb' : ''}`);
    }
    cols.push('updated_at = now()');
    await db.query(`UPDATE scaler.servers SET ${cols.join(', ')} WHERE id = $1`, params);
  }

  async remove(db: Db, id: string): Promise<void> {
    await db.query(`DELETE FROM scaler.servers WHERE id = $1`, [id]);
  }

  /** Whether the group waits for a launch result (an event about an unknown instance may be early). */
  async hasPendingLaunch(db: Db, groupId: string): Promise<boolean> {
    const rows: unknown[] = await db.query(
      `SELECT 1 FROM scaler.servers WHERE group_id = $1 AND instance_id IS NULL LIMIT 1`,
      [groupId],
    );
    return rows.length > 0;
  }

  /** Keeps the newest state of an instance whose launch result has not arrived yet. */
  async parkEarlyState(
    tx: EntityManager,
    d: { instanceId: string; to: string; reason: string; addresses?: string[]; version?: number },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.early_states (instance_id, state, reason, addresses, version) VALUES ($1,$2,$3,$4::jsonb,$5)
       ON CONFLICT (instance_id) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
         addresses = EXCLUDED.addresses, version = EXCLUDED.version, received_at = now()
       WHERE scaler.early_states.version IS NULL OR EXCLUDED.version IS NULL
         OR EXCLUDED.version > scaler.early_states.version`,
      [d.instanceId, d.to, d.reason, d.addresses ? JSON.stringify(d.addresses) : null, d.version ?? null],
    );
  }

  async takeEarlyState(
    tx: EntityManager,
    instanceId: string,
  ): Promise<{ state: InstanceState; reason: string; addresses: string[] | null } | undefined> {
    const r: unknown = await tx.query(
      `DELETE FROM scaler.early_states WHERE instance_id = $1 RETURNING state, reason, addresses`,
      [instanceId],
    );
    return returnedRows<{ state: InstanceState; reason: string; addresses: string[] | null }>(r)[0];
  }

  // Convergence leases: see Note [One pass per group] in converger.service.ts.

  async claim(limit: number, leaseMs: number): Promise<string[]> {
    const r: unknown = await this.db.query(
      `UPDATE scaler.groups SET converge_after = NULL, lease_until = now() + ($2 || ' milliseconds')::interval
       WHERE id IN (
         SELECT id FROM scaler.groups
         WHERE converge_after <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY converge_after LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [limit, String(leaseMs)],
    );
    return returnedRows<{ id: string }>(r).map((x) => x.id);
  }

  /** Ends a pass: frees the lease and keeps the earliest of a pending request and the requeue. */
  async release(id: string, requeueAt: Date | undefined): Promise<void> {
    await this.db.query(
      `UPDATE scaler.groups SET lease_until = NULL, converge_after = LEAST(converge_after, $2::timestamptz)
       WHERE id = $1`,
      [id, requeueAt ?? null],
    );
  }

  /** When the next requested pass is due (for the converger's timer). */
  async nextDue(): Promise<Date | undefined> {
    const [r]: { t: Date | null }[] = await this.db.query(
      `SELECT min(converge_after) AS t FROM scaler.groups WHERE converge_after IS NOT NULL`,
    );
    return r?.t ?? undefined;
  }
}
