import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

export class CreateScaler1763800000000 implements MigrationInterface {
  name = 'CreateScaler1763800000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql('scaler')) await q.query(sql);
    await q.query(`
      CREATE TABLE scaler.groups (
        id uuid PRIMARY KEY,
        project text,
        name text NOT NULL,
        min_entities int NOT NULL,
        max_entities int NOT NULL,
        cooldown_ms bigint NOT NULL DEFAULT 0,
        metadata jsonb NOT NULL DEFAULT '{}',
        ready_webhook jsonb,
        launch_config jsonb NOT NULL,
        desired int NOT NULL,
        paused boolean NOT NULL DEFAULT false,
        deleting boolean NOT NULL DEFAULT false,
        last_scaled_at timestamptz,
        status text NOT NULL DEFAULT 'ACTIVE',
        errors jsonb NOT NULL DEFAULT '[]',
        launch_failures int NOT NULL DEFAULT 0,
        last_launch_error text,
        converge_after timestamptz,
        lease_until timestamptz,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX groups_project_idx ON scaler.groups (project, id)`);
    await q.query(
      `CREATE INDEX groups_converge_idx ON scaler.groups (converge_after) WHERE converge_after IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE scaler.policies (
        id uuid PRIMARY KEY,
        group_id uuid NOT NULL REFERENCES scaler.groups(id) ON DELETE CASCADE,
        name text NOT NULL,
        type text NOT NULL,
        cooldown_ms bigint NOT NULL DEFAULT 0,
        change int,
        change_percent double precision,
        desired_capacity int,
        args jsonb,
        last_executed_at timestamptz,
        last_fired_at timestamptz,
        next_firing_at timestamptz,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX policies_group_idx ON scaler.policies (group_id, created_at, id)`);
    await q.query(
      `CREATE INDEX policies_due_idx ON scaler.policies (next_firing_at) WHERE next_firing_at IS NOT NULL`,
    );
    await q.query(`CREATE INDEX policies_alarm_idx ON scaler.policies (type) WHERE type = 'alarm'`);
    // Capability URLs: only the SHA-256 of the 256-bit capability is stored.
    await q.query(`
      CREATE TABLE scaler.webhooks (
        id uuid PRIMARY KEY,
        group_id uuid NOT NULL REFERENCES scaler.groups(id) ON DELETE CASCADE,
        policy_id uuid NOT NULL REFERENCES scaler.policies(id) ON DELETE CASCADE,
        name text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        capability_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX webhooks_policy_idx ON scaler.webhooks (policy_id, created_at, id)`);
    // Note [Schedule firings] in libs/scaling: the unique key makes each firing run once.
    await q.query(`
      CREATE TABLE scaler.schedule_firings (
        policy_id uuid NOT NULL REFERENCES scaler.policies(id) ON DELETE CASCADE,
        scheduled_at timestamptz NOT NULL,
        executed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        outcome text NOT NULL,
        detail text,
        PRIMARY KEY (policy_id, scheduled_at))`);
    await q.query(`
      CREATE TABLE scaler.alarm_receipts (
        key text PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE scaler.servers (
        id uuid PRIMARY KEY,
        group_id uuid NOT NULL REFERENCES scaler.groups(id) ON DELETE CASCADE,
        idempotency_key text NOT NULL UNIQUE,
        instance_id uuid UNIQUE,
        state text NOT NULL,
        addresses jsonb NOT NULL DEFAULT '[]',
        lb_memberships jsonb NOT NULL DEFAULT '[]',
        evicted text,
        reason text,
        instance_version int NOT NULL DEFAULT 0,
        draining_since timestamptz,
        active_at timestamptz,
        notified boolean NOT NULL DEFAULT false,
        destroy_sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX servers_group_idx ON scaler.servers (group_id, created_at)`);
    // Instance states seen before the launch result that names the instance (Note [Server events]).
    await q.query(`
      CREATE TABLE scaler.early_states (
        instance_id uuid PRIMARY KEY,
        state text NOT NULL,
        reason text NOT NULL,
        addresses jsonb,
        version int,
        received_at timestamptz NOT NULL DEFAULT now())`);
    // Customer webhook deliveries (one per ready server) and every attempt.
    await q.query(`
      CREATE TABLE scaler.deliveries (
        id uuid PRIMARY KEY,
        group_id uuid NOT NULL,
        server_id uuid NOT NULL,
        url text NOT NULL,
        secret jsonb,
        payload jsonb NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'pending',
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        give_up_at timestamptz NOT NULL,
        lease_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (server_id))`);
    await q.query(
      `CREATE INDEX deliveries_due_idx ON scaler.deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE scaler.delivery_attempts (
        delivery_id uuid NOT NULL REFERENCES scaler.deliveries(id) ON DELETE CASCADE,
        attempt int NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        status int,
        ok boolean NOT NULL,
        error text,
        PRIMARY KEY (delivery_id, attempt))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE scaler.early_states, scaler.delivery_attempts, scaler.deliveries, scaler.servers, scaler.alarm_receipts,
         scaler.schedule_firings, scaler.webhooks, scaler.policies, scaler.groups`,
    );
  }
}
