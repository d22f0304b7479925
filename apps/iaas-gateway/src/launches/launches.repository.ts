import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Usage } from '@nephele/broker';
import { SqlRepository } from '@nephele/persistence';
import { GATEWAY_DB } from '../gateway.tokens';

export type AttemptStatus = 'launching' | 'launched' | 'failed' | 'destroyed';

export interface AttemptRow {
  idempotency_key: string;
  instance_id: string;
  owner: string;
  project: string | null;
  pool_id: string | null;
  family_id: string | null;
  account_id: string | null;
  provider_instance_id: string | null;
  image_id: string | null;
  hardware_profile_id: string | null;
  cores: number;
  memory_mb: number;
  status: AttemptStatus;
  reason: string | null;
  epoch: number | null;
  name: string | null;
}

@Injectable()
export class LaunchesRepository extends SqlRepository {
  constructor(@Inject(GATEWAY_DB) db: DataSource) {
    super(db);
  }

  async byKey(key: string): Promise<AttemptRow | undefined> {
    const r: AttemptRow[] = await this.db.query(
      `SELECT * FROM iaas_gateway.launch_attempts WHERE idempotency_key = $1`,
      [key],
    );
    return r[0];
  }

  async byInstance(id: string): Promise<AttemptRow | undefined> {
    const r: AttemptRow[] = await this.db.query(
      `SELECT * FROM iaas_gateway.launch_attempts WHERE instance_id = $1`,
      [id],
    );
    return r[0];
  }

  async begin(
    a: Pick<AttemptRow, 'idempotency_key' | 'instance_id' | 'owner' | 'project' | 'epoch' | 'name'>,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO iaas_gateway.launch_attempts (idempotency_key, instance_id, owner, project, epoch, name, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'launching') ON CONFLICT DO NOTHING`,
      [a.idempotency_key, a.instance_id, a.owner, a.project, a.epoch, a.name],
    );
  }

  async finish(
    tx: EntityManager,
    key: string,
    f: Partial<AttemptRow> & { status: AttemptStatus },
  ): Promise<void> {
    const cols = Object.keys(f);
    const sets = cols.map((c, i) => `${c} = $${i + 2}`).join(', ');
    await tx.query(
      `UPDATE iaas_gateway.launch_attempts SET ${sets}, updated_at = now() WHERE idempotency_key = $1`,
      [key, ...cols.map((c) => (f as Record<string, unknown>)[c])],
    );
  }

  async markDestroyed(instanceId: string): Promise<void> {
    await this.db.query(
      `UPDATE iaas_gateway.launch_attempts SET status = 'destroyed', updated_at = now() WHERE instance_id = $1 AND status = 'launched'`,
      [instanceId],
    );
  }

  /** Raises the recorded epoch of an owner; returns the epoch now in force. */
  async raiseEpoch(ownerKey: string, epoch: number): Promise<number> {
    const r: { epoch: number }[] = await this.db.query(
      `INSERT INTO iaas_gateway.owner_epochs (owner_key, epoch) VALUES ($1, $2)
       ON CONFLICT (owner_key) DO UPDATE SET epoch = GREATEST(iaas_gateway.owner_epochs.epoch, EXCLUDED.epoch), updated_at = now()
       RETURNING epoch`,
      [ownerKey, epoch],
    );
    return r[0]!.epoch;
  }

  async currentEpoch(ownerKey: string): Promise<number | undefined> {
    const r: { epoch: number }[] = await this.db.query(
      `SELECT epoch FROM iaas_gateway.owner_epochs WHERE owner_key = $1`,
      [ownerKey],
    );
    return r[0]?.epoch;
  }

  /** What launched instances use, per account, for one pool and one family. */
  async usage(
    poolId: string,
    familyId: string,
  ): Promise<{ byAccount: Map<string, Usage>; pool: Usage; family: Usage }> {
    const rows: {
      account_id: string;
      pool_id: string;
      family_id: string;
      n: number;
      cores: number;
      mem: number;
    }[] = await this.db.query(
      `SELECT account_id, pool_id, family_id, count(*)::int AS n, sum(cores)::int AS cores, sum(memory_mb)::int AS mem
       FROM iaas_gateway.launch_attempts WHERE status = 'launched' GROUP BY account_id, pool_id, family_id`,
    );
    const byAccount = new Map<string, Usage>();
    const pool: Usage = { instances: 0, cores: 0, memoryMb: 0 };
    const family: Usage = { instances: 0, cores: 0, memoryMb: 0 };
    const add = (u: Usage, r: { n: number; cores: number; mem: number }) => {
      u.instances += r.n;
      u.cores += r.cores;
      u.memoryMb += r.mem;
    };
    for (const r of rows) {
      const a = byAccount.get(r.account_id) ?? { instances: 0, cores: 0, memoryMb: 0 };
      add(a, r);
      byAccount.set(r.account_id, a);
      if (r.pool_id === poolId) add(pool, r);
      if (r.family_id === familyId) add(family, r);
    }
    return { byAccount, pool, family };
  }

  async recordFailure(accountId: string, reason: string): Promise<void> {
    await this.db.query(`INSERT INTO iaas_gateway.account_failures (account_id, reason) VALUES ($1, $2)`, [
      accountId,
      reason.slice(0, 2000),
    ]);
  }

  async recentFailures(windowMs: number): Promise<Map<string, number>> {
    const rows: { account_id: string; n: number }[] = await this.db.query(
      `SELECT account_id, count(*)::int AS n FROM iaas_gateway.account_failures
       WHERE at > now() - ($1::int * interval '1 millisecond') GROUP BY account_id`,
      [windowMs],
    );
    return new Map(rows.map((r) => [r.account_id, r.n]));
  }
}
