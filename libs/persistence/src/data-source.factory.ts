import { DataSource, DataSourceOptions } from 'typeorm';
import { advisoryKey } from './advisory-lock';
import { startEmbeddedPostgres } from './embedded-postgres';
import { sharedSessionPg } from './shared-pool';

export interface AppDataSourceOptions {
  /** The app's PostgreSQL schema: every table of the app lives there. */
  schema: string;
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: NonNullable<DataSourceOptions['migrations']>;
  /** PostgreSQL URL; unset → embedded PGlite (see Note [Embedded PostgreSQL]). */
  url?: string;
  /** Connections in the pool (PostgreSQL only; embedded always uses one). */
  poolSize?: number;
  logging?: boolean;
}

export interface AppDataSource {
  dataSource: DataSource;
  embedded: boolean;
}

/** The options both Nest and the TypeORM CLI use for an app (one data-source per app). */
export function dataSourceOptions(
  opts: AppDataSourceOptions & { url: string; embedded: boolean },
): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    schema: opts.schema,
    entities: opts.entities,
    migrations: opts.migrations,
    migrationsTableName: 'migrations',
    ...(opts.embedded ? { driver: sharedSessionPg } : {}),
    migrationsTransactionMode: 'each',
    synchronize: false,
    // Failed statements surface as exceptions to the caller; TypeORM's own console logging would
    // print their parameters.
    logging: opts.logging ? ['error', 'warn', 'migration'] : false,
    extra: {
      max: opts.embedded ? 1 : (opts.poolSize ?? 10),
      connectionTimeoutMillis: 10_000,
      application_name: `nephele-${opts.schema}`,
    },
  };
}

/**
 * Connects and migrates an app's schema. Concurrent starts of several replicas are serialised by an
 * advisory lock named after the schema, so each migration runs once.
 */
export async function createAppDataSource(opts: AppDataSourceOptions): Promise<AppDataSource> {
  const embedded = !opts.url;
  const url = opts.url ?? (await startEmbeddedPostgres()).url;
  const ds = new DataSource(dataSourceOptions({ ...opts, url, embedded }));
  await ds.initialize();
  try {
    await migrate(ds, opts.schema, embedded);
  } catch (e) {
    await ds.destroy();
    throw e;
  }
  return { dataSource: ds, embedded };
}

async function migrate(ds: DataSource, schema: string, embedded: boolean): Promise<void> {
  if (embedded) {
    // One process owns the embedded database: no concurrent starts to serialise, and its single
    // connection could not hold a lock while the migrations run.
    await ds.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await ds.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = ds.createQueryRunner();
  await runner.connect();
  const key = advisoryKey(`nephele-migrate:${schema}`);
  try {
    await runner.query(`SELECT pg_advisory_lock(${key})`);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(${key})`).catch(() => undefined);
    await runner.release();
  }
}

/** Creates the app's schema on connecting, as createAppDataSource does before migrating. */
class CliDataSource extends DataSource {
  override async initialize(): Promise<this> {
    await super.initialize();
    const { schema } = this.options as { schema?: string };
    if (schema) await this.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    return this;
  }
}

/**
 * An app's data source as the TypeORM CLI sees it (`npx typeorm -d dist/apps/<app>/data-source.js
 * migration:show`, see docs/DEVELOPING.md). The CLI awaits every export of that file, so this
 * thenable builds the DataSource only then, from DATABASE_URL: the app importing the same file
 * (for its schema and migrations) reads nothing and connects nothing. The embedded database has
 * no CLI: it migrates when the service starts.
 */
export function cliDataSource(
  opts: Pick<AppDataSourceOptions, 'schema' | 'migrations'> & Partial<Pick<AppDataSourceOptions, 'entities'>>,
  env: Record<string, string | undefined> = process.env,
): PromiseLike<DataSource> {
  return {
    then(onResolved, onRejected) {
      return new Promise<DataSource>((resolve) => {
        const url = env['DATABASE_URL'];
        if (!url) throw new Error('DATABASE_URL is not set: the TypeORM CLI needs a PostgreSQL URL');
        resolve(new CliDataSource(dataSourceOptions({ entities: [], ...opts, url, embedded: false })));
      }).then(onResolved, onRejected);
    },
  };
}
