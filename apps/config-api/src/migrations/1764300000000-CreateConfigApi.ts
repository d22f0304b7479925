import { MigrationInterface, QueryRunner } from 'typeorm';
import { busTablesSql } from '@nephele/bus';

const S = 'config_api';

/** Common columns: `seq` orders lists (keyset pagination), `version` is the ETag. */
const STAMPS = `
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()`;

/**
 * The broker configuration store. Every reference is a foreign key ON DELETE RESTRICT, so even a
 * race past the service's "still referenced" check cannot leave a dangling id. Names are unique per
 * project (global resources: globally; provider children: per provider).
 */
export class CreateConfigApi1764300000000 implements MigrationInterface {
  name = 'CreateConfigApi1764300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of busTablesSql(S)) await q.query(sql);
    await q.query(`
      CREATE TABLE ${S}.projects (
        id uuid PRIMARY KEY,
        name text NOT NULL CONSTRAINT projects_name_key UNIQUE,
        description text,
        ${STAMPS})`);
    await q.query(`
      CREATE TABLE ${S}.tokens (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
        project_id uuid REFERENCES ${S}.projects (id) ON DELETE CASCADE,
        token_hash text NOT NULL CONSTRAINT tokens_hash_key UNIQUE,
        created_by text NOT NULL,
        revoked_at timestamptz,
        ${STAMPS},
        CONSTRAINT tokens_admin_has_no_project CHECK ((role = 'admin') = (project_id IS NULL)))`);
    await q.query(`
      CREATE TABLE ${S}.providers (
        id uuid PRIMARY KEY,
        name text NOT NULL CONSTRAINT providers_name_key UNIQUE,
        kind text NOT NULL,
        endpoint text,
        region text,
        enabled boolean NOT NULL DEFAULT true,
        options jsonb NOT NULL DEFAULT '{}',
        ${STAMPS})`);
    await q.query(`
      CREATE TABLE ${S}.provider_profiles (
        id uuid PRIMARY KEY,
        provider_id uuid NOT NULL REFERENCES ${S}.providers (id) ON DELETE RESTRICT,
        name text NOT NULL,
        cpu integer NOT NULL CHECK (cpu >= 0),
        memory_mb integer NOT NULL CHECK (memory_mb >= 0),
        storage_gb integer NOT NULL CHECK (storage_gb >= 0),
        arch text NOT NULL,
        cost_per_hour numeric(14, 6) CHECK (cost_per_hour >= 0),
        ${STAMPS},
        CONSTRAINT provider_profiles_name_key UNIQUE (provider_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.realms (
        id uuid PRIMARY KEY,
        provider_id uuid NOT NULL REFERENCES ${S}.providers (id) ON DELETE RESTRICT,
        name text NOT NULL,
        available boolean NOT NULL DEFAULT true,
        ${STAMPS},
        CONSTRAINT realms_name_key UNIQUE (provider_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.provider_accounts (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        provider_id uuid NOT NULL REFERENCES ${S}.providers (id) ON DELETE RESTRICT,
        name text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        priority integer NOT NULL DEFAULT 0,
        weight integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
        quota jsonb NOT NULL DEFAULT '{}',
        credentials jsonb,
        ${STAMPS},
        CONSTRAINT provider_accounts_name_key UNIQUE (project_id, name),
        CONSTRAINT provider_accounts_sealed CHECK (credentials IS NULL OR (credentials ? 'kid' AND credentials ? 'dk' AND credentials ? 'ct')))`);
    await q.query(`
      CREATE TABLE ${S}.pool_families (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        name text NOT NULL,
        description text,
        quota jsonb NOT NULL DEFAULT '{}',
        ${STAMPS},
        CONSTRAINT pool_families_name_key UNIQUE (project_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.pool_family_accounts (
        family_id uuid NOT NULL REFERENCES ${S}.pool_families (id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES ${S}.provider_accounts (id) ON DELETE RESTRICT,
        PRIMARY KEY (family_id, account_id))`);
    await q.query(`CREATE INDEX pool_family_accounts_account ON ${S}.pool_family_accounts (account_id)`);
    await q.query(`
      CREATE TABLE ${S}.pools (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        name text NOT NULL,
        description text,
        family_id uuid NOT NULL REFERENCES ${S}.pool_families (id) ON DELETE RESTRICT,
        enabled boolean NOT NULL DEFAULT true,
        quota jsonb NOT NULL DEFAULT '{}',
        ${STAMPS},
        CONSTRAINT pools_name_key UNIQUE (project_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.hardware_profiles (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        name text NOT NULL,
        cpu jsonb,
        memory_mb jsonb,
        storage_gb jsonb,
        arch text,
        ${STAMPS},
        CONSTRAINT hardware_profiles_name_key UNIQUE (project_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.images (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        name text NOT NULL,
        os text,
        arch text,
        description text,
        ${STAMPS},
        CONSTRAINT images_name_key UNIQUE (project_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.image_mappings (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        image_id uuid NOT NULL REFERENCES ${S}.images (id) ON DELETE RESTRICT,
        account_id uuid NOT NULL REFERENCES ${S}.provider_accounts (id) ON DELETE RESTRICT,
        provider_image_id text NOT NULL,
        ${STAMPS},
        CONSTRAINT image_mappings_pair_key UNIQUE (image_id, account_id))`);
    await q.query(`CREATE INDEX image_mappings_account ON ${S}.image_mappings (account_id)`);
    await q.query(`
      CREATE TABLE ${S}.appliances (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        name text NOT NULL,
        description text,
        ${STAMPS},
        CONSTRAINT appliances_name_key UNIQUE (project_id, name))`);
    await q.query(`
      CREATE TABLE ${S}.appliance_implementations (
        id uuid PRIMARY KEY,
        project_id uuid NOT NULL REFERENCES ${S}.projects (id) ON DELETE RESTRICT,
        appliance_id uuid NOT NULL REFERENCES ${S}.appliances (id) ON DELETE RESTRICT,
        provider_id uuid NOT NULL REFERENCES ${S}.providers (id) ON DELETE RESTRICT,
        template_version text NOT NULL,
        template_format text NOT NULL CHECK (template_format IN ('json', 'yaml', 'object')),
        template text NOT NULL,
        parameters jsonb NOT NULL DEFAULT '[]',
        outputs jsonb NOT NULL DEFAULT '[]',
        description text,
        ${STAMPS},
        CONSTRAINT appliance_implementations_version_key UNIQUE (appliance_id, provider_id, template_version))`);
    for (const t of [
      'provider_accounts',
      'pool_families',
      'pools',
      'hardware_profiles',
      'images',
      'image_mappings',
      'appliances',
      'appliance_implementations',
    ]) {
      await q.query(`CREATE INDEX ${t}_project ON ${S}.${t} (project_id, seq)`);
    }
    for (const [t, c] of [
      ['provider_profiles', 'provider_id'],
      ['realms', 'provider_id'],
      ['provider_accounts', 'provider_id'],
      ['pools', 'family_id'],
      ['appliance_implementations', 'appliance_id'],
      ['appliance_implementations', 'provider_id'],
      ['tokens', 'project_id'],
    ]) {
      await q.query(`CREATE INDEX ${t}_${c} ON ${S}.${t} (${c})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP SCHEMA ${S} CASCADE`);
  }
}
