import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { InstanceState, ProviderInstanceView } from '@nephele/contracts';
import { SqlRepository } from '@nephele/persistence';
import { TRACKER_DB } from '../state-tracker.tokens';
import type { PollRow } from './poll.plan';

export interface InstanceRow {
  id: string;
  owner: string;
  project: string | null;
  pool: string | null;
  provider_account_id: string;
  provider_instance_id: string | null;
  idempotency_key: string | null;
  name: string | null;
  image: string | null;
  hardware_profile: string | null;
  state: InstanceState;
  addresses: string[];
  reason: string | null;
  last_seen: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A row's new state, addresses and reason (see `updateState`). */
export interface StateUpdate {
  id: string;
  state: InstanceState;
  addresses: string[];
  reason: string | null;
}

export interface HistoryRow {
  instance_id: string;
  from_state: string | null;
  to_state: string;
  reason: string;
  source: string;
}

export interface InstanceFilter {
  owner?: string;
  ownerPrefix?: string;
  project?: string;
  pool?: string;
  state?: string;
  providerAccountId?: string;
  afterId?: string;
}

/** One row of `pollCandidates`: a live row, a listed id no live row has, or (last) the reply's time. */
type CandidateRow = PollRow & {
  listed: boolean | null;
  listed_state: InstanceState | null;
  listed_addresses: string[] | null;
  at?: number | null;
};

// jsonb's binary input format: a version byte, then the JSON text.
const JSONB_V1 = Buffer.of(1);

function splitCandidates(rows: CandidateRow[]): {
  rows: PollRow[];
  listed: ProviderInstanceView[];
  unknownProviderIds: string[];
  at: Date;
} {
  const out = {
    rows: [] as PollRow[],
    listed: [] as ProviderInstanceView[],
    unknownProviderIds: [] as string[],
  };
  let at = NaN;
  for (const r of rows) {
    if (r.provider_instance_id === null) {
      at = r.at ?? NaN;
      continue;
    }
    if (r.listed)
      out.listed.push({ id: r.provider_instance_id, state: r.listed_state!, addresses: r.listed_addresses! });
    if (r.id === null) out.unknownProviderIds.push(r.provider_instance_id);
    else
      out.rows.push({
        id: r.id,
        provider_instance_id: r.provider_instance_id,
        state: r.state,
        addresses: r.addresses,
        created_at: r.created_at,
      });
  }
  // Without a list, every live row would look gone: the poll of the account fails instead.
  if (Number.isNaN(at)) throw new Error('the list reply has no "instances" array or no valid "at"');
  return { ...out, at: new Date(at) };
}

const COLS = `id, owner, project, pool, provider_account_id, provider_instance_id, idempotency_key, name, image,
  hardware_profile, state, addresses, reason, last_seen, version, created_at, updated_at`;

// A live instance was last seen at its own last_seen (set when the tracker wrote its state) or at
// its account's last poll when that poll listed it (Note [Poll cost]), whichever is later.
const LAST_SEEN = `CASE WHEN i.state <> 'terminated' AND NOT (i.provider_instance_id = ANY (m.unlisted))
  THEN GREATEST(i.last_seen, m.listed_at) ELSE i.last_seen END AS last_seen`;

/** COLS of `i` (a subquery of instances) with last_seen as LAST_SEEN, and the join it needs. */
const VIEW_FROM = (inner: string) =>
  `SELECT i.id, i.owner, i.project, i.pool, i.provider_account_id, i.provider_instance_id, i.idempotency_key,
     i.name, i.image, i.hardware_profile, i.state, i.addresses, i.reason, ${LAST_SEEN}, i.version,
     i.created_at, i.updated_at
   FROM (${inner}) i LEFT JOIN state_tracker.account_polls m ON m.provider_account_id = i.provider_account_id`;

@Injectable()
export class InstancesRepository extends SqlRepository {
  constructor(@Inject(TRACKER_DB) db: DataSource) {
    super(db);
  }

  /** Which of these provider ids the store knows for the account (in any state). */
  async knownProviderIds(accountId: string, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows: { p: string }[] = await this.db.query(
      `SELECT provider_instance_id AS p FROM state_tracker.instances WHERE provider_account_id = $1 AND provider_instance_id = ANY($2::text[])`,
      [accountId, ids],
    );
    return rows.map((r) => r.p);
  }

  async insert(
    tx: EntityManager,
    r: Omit<InstanceRow, 'version' | 'created_at' | 'updated_at' | 'last_seen'>,
  ): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `INSERT INTO state_tracker.instances (id, owner, project, pool, provider_account_id, provider_instance_id,
         idempotency_key, name, image, hardware_profile, state, addresses, reason, last_seen)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13, now())
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        r.id,
        r.owner,
        r.project,
        r.pool,
        r.provider_account_id,
        r.provider_instance_id,
        r.idempotency_key,
        r.name,
        r.image,
        r.hardware_profile,
        r.state,
        JSON.stringify(r.addresses),
        r.reason,
      ],
    );
    return rows.length > 0;
  }

  async lockByIds(tx: EntityManager, ids: string[]): Promise<InstanceRow[]> {
    if (!ids.length) return [];
    return tx.query(
      `SELECT ${COLS} FROM state_tracker.instances WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
  }

  async lockByProvider(
    tx: EntityManager,
    accountId: string,
    providerInstanceId: string,
  ): Promise<InstanceRow | undefined> {
    const rows: InstanceRow[] = await tx.query(
      `SELECT ${COLS} FROM state_tracker.instances WHERE provider_account_id = $1 AND provider_instance_id = $2 FOR UPDATE`,
      [accountId, providerInstanceId],
    );
    return rows[0];
  }

  async updateState(
    tx: EntityManager,
    id: string,
    s: { state: InstanceState; addresses: string[]; reason: string | null },
  ): Promise<void> {
    await tx.query(
      `UPDATE state_tracker.instances SET state = $2, addresses = $3::jsonb, reason = $4, last_seen = now(),
         version = version + 1, updated_at = now() WHERE id = $1`,
      [id, s.state, JSON.stringify(s.addresses), s.reason],
    );
  }

  /** Many rows' `updateState` in one statement. */
  async updateStates(tx: EntityManager, updates: StateUpdate[]): Promise<void> {
    if (!updates.length) return;
    await tx.query(
      `UPDATE state_tracker.instances i SET state = u.s, addresses = u.a::jsonb, reason = u.r, last_seen = now(),
         version = i.version + 1, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, s, a, r) WHERE i.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.state),
        updates.map((u) => JSON.stringify(u.addresses)),
        updates.map((u) => u.reason),
      ],
    );
  }

  async insertHistory(tx: EntityManager, rows: HistoryRow[]): Promise<void> {
    if (!rows.length) return;
    await tx.query(
      `INSERT INTO state_tracker.instance_history (instance_id, from_state, to_state, reason, source)
       SELECT (h->>'instance_id')::uuid, h->>'from_state', h->>'to_state', h->>'reason', h->>'source'
       FROM jsonb_array_elements($1::jsonb) h`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * An account's instances were listed at `listedAt`: every live one but `unlisted` (provider ids)
   * counts as seen then (one row per account, not one write per instance: Note [Poll cost]). A
   * mark never moves back (an older poll finishing late leaves a newer mark).
   */
  async markPolled(accountId: string, listedAt: Date, unlisted: string[]): Promise<void> {
    await this.db.query(
      `INSERT INTO state_tracker.account_polls (provider_account_id, listed_at, unlisted) VALUES ($1, $2, $3::text[])
       ON CONFLICT (provider_account_id) DO UPDATE SET listed_at = EXCLUDED.listed_at, unlisted = EXCLUDED.unlisted
       WHERE account_polls.listed_at <= EXCLUDED.listed_at`,
      [accountId, listedAt.toISOString(), unlisted],
    );
  }

  /**
   * Accounts with live instances: how many, and whether any of them is in a transitional state.
   */
  async liveAccounts(): Promise<{ accountId: string; live: number; transitional: boolean }[]> {
    const rows: { a: string; n: number; t: boolean }[] = await this.db.query(
      `SELECT provider_account_id AS a, count(*)::int AS n,
         bool_or(state IN ('pending','stopping','rebooting','terminating')) AS t
       FROM state_tracker.instances WHERE state <> 'terminated' GROUP BY provider_account_id`,
    );
    return rows.map((r) => ({ accountId: r.a, live: r.n, transitional: r.t }));
  }

  /**
   * The set-based half of a poll (Note [Poll cost]): the gateway's reply (`{at, instances}`, the
   * JSON bytes as they came off the bus) goes to the database as one jsonb parameter, joined there
   * with the account's live rows. Returns only the rows a plan can act on — listed with another
   * state or other addresses, or not listed — with what the provider listed for them, the listed
   * instances no live row has, and the reply's `at`.
   */
  async pollCandidates(
    accountId: string,
    reply: Buffer,
  ): Promise<{ rows: PollRow[]; listed: ProviderInstanceView[]; unknownProviderIds: string[]; at: Date }> {
    const rows: CandidateRow[] = await this.db.query(
      `WITH l AS (
         SELECT x.id AS pid, x.state AS st, COALESCE(x.addresses, '[]') AS ad
         FROM jsonb_to_recordset($2::jsonb -> 'instances') AS x(id text, state text, addresses jsonb)
       ), i AS (
         SELECT id, provider_instance_id, state, addresses, created_at
         FROM state_tracker.instances WHERE provider_account_id = $1 AND state <> 'terminated'
       )
       SELECT i.id, COALESCE(i.provider_instance_id, l.pid) AS provider_instance_id, i.state, i.addresses,
         (extract(epoch FROM i.created_at) * 1000)::float8 AS created_at,
         l.pid IS NOT NULL AS listed, l.st AS listed_state, l.ad AS listed_addresses, NULL::float8 AS at
       FROM i FULL JOIN l ON l.pid = i.provider_instance_id
       WHERE CASE WHEN i.id IS NULL THEN l.st <> 'terminated'
         ELSE i.provider_instance_id IS NOT NULL
           AND (l.pid IS NULL OR l.st IS DISTINCT FROM i.state OR l.ad <> i.addresses) END
       UNION ALL
       SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         CASE WHEN jsonb_typeof($2::jsonb -> 'instances') = 'array'
           THEN (extract(epoch FROM ($2::jsonb ->> 'at')::timestamptz) * 1000)::float8 END`,
      // Binary jsonb: a version byte, then the text (no decoding to a string here: Note [Poll cost]).
      [accountId, Buffer.concat([JSONB_V1, reply])],
    );
    return splitCandidates(rows);
  }

  async newOrphans(accountId: string, providerIds: string[]): Promise<string[]> {
    if (!providerIds.length) return [];
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO state_tracker.orphans (provider_account_id, provider_instance_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING provider_instance_id AS id`,
      [accountId, providerIds],
    );
    return rows.map((r) => r.id);
  }

  async find(f: InstanceFilter, limit: number): Promise<InstanceRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (f.owner) where.push(`owner = ${p(f.owner)}`);
    if (f.ownerPrefix) where.push(`starts_with(owner, ${p(f.ownerPrefix)})`);
    if (f.project) where.push(`project = ${p(f.project)}`);
    if (f.pool) where.push(`pool = ${p(f.pool)}`);
    if (f.state) where.push(`state = ${p(f.state)}`);
    if (f.providerAccountId) where.push(`provider_account_id = ${p(f.providerAccountId)}`);
    if (f.afterId) where.push(`id > ${p(f.afterId)}::uuid`);
    const inner = `SELECT ${COLS} FROM state_tracker.instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id LIMIT ${p(limit)}`;
    return this.db.query(`${VIEW_FROM(inner)} ORDER BY i.id`, params);
  }

  async get(id: string): Promise<InstanceRow | undefined> {
    const rows: InstanceRow[] = await this.db.query(
      VIEW_FROM(`SELECT ${COLS} FROM state_tracker.instances WHERE id = $1`),
      [id],
    );
    return rows[0];
  }

  history(
    id: string,
  ): Promise<{ from_state: string | null; to_state: string; reason: string; source: string; at: Date }[]> {
    return this.db.query(
      `SELECT from_state, to_state, reason, source, at FROM state_tracker.instance_history WHERE instance_id = $1 ORDER BY seq`,
      [id],
    );
  }
}
