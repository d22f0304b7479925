import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returnedRows } from '@nephele/persistence';
import { GATEWAY_DB } from '../gateway.tokens';

export interface ServerRow {
  instance_id: string;
  project: string;
  pool_id: string;
  name: string;
  image_id: string;
  flavor_id: string;
  metadata: Record<string, string>;
  key_name: string | null;
  stack_id: string | null;
  created_at: Date;
  deleted_at: Date | null;
  /** From the launch attempt. */
  status: string | null;
  reason: string | null;
}

export interface KeypairRow {
  project: string;
  name: string;
  public_key: string;
  fingerprint: string;
  type: string;
  created_at: Date;
}

export interface StackRow {
  id: string;
  project: string;
  pool_id: string;
  name: string;
  template: Record<string, unknown>;
  parameters: Record<string, unknown>;
  status: string;
  status_reason: string;
  resources: Record<string, StackResourceState>;
  outputs: StackOutput[];
  events: StackEvent[];
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface StackOutput {
  output_key: string;
  output_value: unknown;
  description?: string;
  output_error?: string;
}

/** A Heat event: a resource (or the stack itself) changing status. */
export interface StackEvent {
  id: string;
  event_time: string;
  resource_name: string;
  logical_resource_id: string;
  physical_resource_id: string;
  resource_status: string;
  resource_status_reason: string;
}

/** A stack resource as recorded: its type and what it made (instance ids for servers). */
export interface StackResourceState {
  type: string;
  status: string;
  reason?: string;
  instances?: string[];
  depends_on?: string[];
}

const SERVER_SELECT = `SELECT s.*, a.status, a.reason FROM iaas_gateway.os_servers s
  LEFT JOIN iaas_gateway.launch_attempts a ON a.instance_id = s.instance_id`;

/** I/O of the OpenStack API: its server extras, keypairs and stacks (schema iaas_gateway). */
@Injectable()
export class OpenStackRepository {
  constructor(@Inject(GATEWAY_DB) private readonly db: DataSource) {}

  async addServer(r: Omit<ServerRow, 'created_at' | 'deleted_at' | 'status' | 'reason'>): Promise<void> {
    await this.db.query(
      `INSERT INTO iaas_gateway.os_servers (instance_id, project, pool_id, name, image_id, flavor_id, metadata, key_name, stack_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8,$9) ON CONFLICT (instance_id) DO NOTHING`,
      [
        r.instance_id,
        r.project,
        r.pool_id,
        r.name,
        r.image_id,
        r.flavor_id,
        JSON.stringify(r.metadata),
        r.key_name,
        r.stack_id,
      ],
    );
  }

  async server(id: string): Promise<ServerRow | undefined> {
    const rows: ServerRow[] = await this.db.query(`${SERVER_SELECT} WHERE s.instance_id = $1`, [id]);
    return rows[0];
  }

  async servers(pool: string): Promise<ServerRow[]> {
    return this.db.query(
      `${SERVER_SELECT} WHERE s.pool_id = $1 AND s.deleted_at IS NULL ORDER BY s.created_at`,
      [pool],
    );
  }

  async serversOfStack(stack: string): Promise<ServerRow[]> {
    return this.db.query(`${SERVER_SELECT} WHERE s.stack_id = $1 ORDER BY s.created_at`, [stack]);
  }

  async markServerDeleted(id: string): Promise<void> {
    await this.db.query(
      `UPDATE iaas_gateway.os_servers SET deleted_at = now() WHERE instance_id = $1 AND deleted_at IS NULL`,
      [id],
    );
  }

  async keypairs(project: string): Promise<KeypairRow[]> {
    return this.db.query(
      `SELECT * FROM iaas_gateway.os_keypairs WHERE project = $1 ORDER BY name LIMIT 1000`,
      [project],
    );
  }

  async keypair(project: string, name: string): Promise<KeypairRow | undefined> {
    const rows: KeypairRow[] = await this.db.query(
      `SELECT * FROM iaas_gateway.os_keypairs WHERE project = $1 AND name = $2`,
      [project, name],
    );
    return rows[0];
  }

  /** false when the name is taken. */
  async addKeypair(k: Omit<KeypairRow, 'created_at'>): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO iaas_gateway.os_keypairs (project, name, public_key, fingerprint, type) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT DO NOTHING RETURNING name`,
      [k.project, k.name, k.public_key, k.fingerprint, k.type],
    );
    return rows.length === 1;
  }

  async deleteKeypair(project: string, name: string): Promise<boolean> {
    const r: unknown = await this.db.query(
      `DELETE FROM iaas_gateway.os_keypairs WHERE project = $1 AND name = $2 RETURNING name`,
      [project, name],
    );
    return returnedRows(r).length > 0;
  }

  /** false when a live stack already has the name. */
  async addStack(
    s: Pick<
      StackRow,
      | 'id'
      | 'project'
      | 'pool_id'
      | 'name'
      | 'template'
      | 'parameters'
      | 'status'
      | 'status_reason'
      | 'resources'
    >,
  ): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO iaas_gateway.stacks (id, project, pool_id, name, template, parameters, status, status_reason, resources)
       VALUES ($1,$2,$3,$4,$5::jsonb,$6::jsonb,$7,$8,$9::jsonb) ON CONFLICT DO NOTHING RETURNING id`,
      [
        s.id,
        s.project,
        s.pool_id,
        s.name,
        JSON.stringify(s.template),
        JSON.stringify(s.parameters),
        s.status,
        s.status_reason,
        JSON.stringify(s.resources),
      ],
    );
    return rows.length === 1;
  }

  async updateStack(
    id: string,
    patch: Partial<Pick<StackRow, 'status' | 'status_reason' | 'resources' | 'outputs'>> & {
      deleted?: boolean;
      events?: StackEvent[];
    },
  ): Promise<void> {
    await this.db.query(
      `UPDATE iaas_gateway.stacks SET status = COALESCE($2, status), status_reason = COALESCE($3, status_reason),
         resources = COALESCE($4::jsonb, resources), outputs = COALESCE($5::jsonb, outputs),
         deleted_at = CASE WHEN $6 THEN now() ELSE deleted_at END, events = events || $7::jsonb,
         updated_at = now() WHERE id = $1`,
      [
        id,
        patch.status ?? null,
        patch.status_reason ?? null,
        patch.resources ? JSON.stringify(patch.resources) : null,
        patch.outputs ? JSON.stringify(patch.outputs) : null,
        patch.deleted ?? false,
        JSON.stringify(patch.events ?? []),
      ],
    );
  }

  /** A stack by id or name in a project: the live one, or (by id) a deleted one. */
  async stack(project: string, ref: string): Promise<StackRow | undefined> {
    const isId = /^[0-9a-f-]{36}$/i.test(ref);
    const rows: StackRow[] = await this.db.query(
      `SELECT * FROM iaas_gateway.stacks WHERE project = $1 AND ${isId ? 'id = $2::uuid' : 'name = $2 AND deleted_at IS NULL'}`,
      [project, ref],
    );
    return rows[0];
  }

  async stackById(id: string): Promise<StackRow | undefined> {
    const rows: StackRow[] = await this.db.query(`SELECT * FROM iaas_gateway.stacks WHERE id = $1`, [id]);
    return rows[0];
  }

  async stacks(project: string, pool: string): Promise<StackRow[]> {
    return this.db.query(
      `SELECT * FROM iaas_gateway.stacks WHERE project = $1 AND pool_id = $2 AND deleted_at IS NULL ORDER BY created_at LIMIT 1000`,
      [project, pool],
    );
  }

  /** Stacks left in progress (by a gateway that stopped): resumed at start. */
  async unfinishedStacks(): Promise<StackRow[]> {
    return this.db.query(
      `SELECT * FROM iaas_gateway.stacks WHERE status IN ('CREATE_IN_PROGRESS','DELETE_IN_PROGRESS') LIMIT 1000`,
    );
  }
}
