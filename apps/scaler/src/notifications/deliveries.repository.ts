import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SCALER_DB } from '../scaler.tokens';
import { returnedRows, SqlRepository } from '@nephele/persistence';

export interface DeliveryRow {
  id: string;
  group_id: string;
  server_id: string;
  url: string;
  secret: unknown;
  payload: Record<string, unknown>;
  attempts: number;
  give_up_at: Date;
  /** The group's project (null once the group is gone): the delivery events are filed under it. */
  project: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date;
  status: number | null;
  ok: boolean;
  error: string | null;
}

/** Customer webhook deliveries and their attempts. */
@Injectable()
export class DeliveriesRepository extends SqlRepository {
  constructor(@Inject(SCALER_DB) db: DataSource) {
    super(db);
  }

  async insert(
    tx: EntityManager,
    d: {
      id: string;
      groupId: string;
      serverId: string;
      url: string;
      secret: unknown;
      payload: unknown;
      giveUpAt: Date;
    },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.deliveries (id, group_id, server_id, url, secret, payload, give_up_at)
       VALUES ($1,$2,$3,$4,$5::jsonb,$6::jsonb,$7) ON CONFLICT (server_id) DO NOTHING`,
      [
        d.id,
        d.groupId,
        d.serverId,
        d.url,
        JSON.stringify(d.secret ?? null),
        JSON.stringify(d.payload),
        d.giveUpAt,
      ],
    );
  }

  /** Claims due deliveries for one attempt each (a lease keeps other replicas off them). */
  async claim(limit: number, leaseMs: number): Promise<DeliveryRow[]> {
    const r: unknown = await this.db.query(
      `UPDATE scaler.deliveries SET lease_until = now() + ($2 || ' milliseconds')::interval
       WHERE id IN (
         SELECT id FROM scaler.deliveries
         WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, group_id, server_id, url, secret, payload, attempts, give_up_at,
         (SELECT g.project FROM scaler.groups g WHERE g.id = scaler.deliveries.group_id) AS project`,
      [limit, String(leaseMs)],
    );
    return returnedRows<DeliveryRow>(r);
  }

  async recordAttempt(
    tx: EntityManager,
    id: string,
    a: { attempt: number; status?: number; ok: boolean; error?: string },
    next: { status: 'pending' | 'delivered' | 'failed'; at?: Date },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO scaler.delivery_attempts (delivery_id, attempt, status, ok, error) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT DO NOTHING`,
      [id, a.attempt, a.status ?? null, a.ok, a.error ?? null],
    );
    await tx.query(
      `UPDATE scaler.deliveries SET attempts = $2, status = $3, next_attempt_at = COALESCE($4, next_attempt_at),
         lease_until = NULL WHERE id = $1`,
      [id, a.attempt, next.status, next.at ?? null],
    );
  }

  async nextDue(): Promise<Date | undefined> {
    const [r]: { t: Date | null }[] = await this.db.query(
      `SELECT min(next_attempt_at) AS t FROM scaler.deliveries WHERE status = 'pending'`,
    );
    return r?.t ?? undefined;
  }

  listForGroup(groupId: string, limit: number) {
    return this.db.query(
      `SELECT d.id, d.server_id, d.url, d.status, d.attempts, d.created_at,
         COALESCE(json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'status', a.status, 'ok', a.ok,
           'error', a.error) ORDER BY a.attempt) FILTER (WHERE a.attempt IS NOT NULL), '[]') AS attempt_log
       FROM scaler.deliveries d LEFT JOIN scaler.delivery_attempts a ON a.delivery_id = d.id
       WHERE d.group_id = $1 GROUP BY d.id ORDER BY d.created_at DESC LIMIT $2`,
      [groupId, limit],
    ) as Promise<
      {
        id: string;
        server_id: string;
        url: string;
        status: string;
        attempts: number;
        created_at: Date;
        attempt_log: unknown[];
      }[]
    >;
  }
}
