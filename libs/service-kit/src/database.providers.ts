import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Bus, OutboxRelay, SqlOutboxStore } from '@nephele/bus';
import { AppLogger } from '@nephele/observability';
import { AppDataSourceOptions, createAppDataSource, pingDatabase } from '@nephele/persistence';
import { HealthRegistry } from './health';
import { BUS, LOGGER } from './tokens';

/** The tokens under which an app's database, its mode and its outbox relay are provided. */
export interface DatabaseTokens {
  db: symbol;
  embedded: symbol;
  outbox: symbol;
}

/**
 * Providers for an app's own schema: its DataSource (migrated at start), whether it is embedded, and
 * its outbox relay (started at bootstrap, stopped before the DataSource closes), plus a readiness check.
 */
export function databaseProviders(
  name: string,
  tokens: DatabaseTokens,
  opts: Omit<AppDataSourceOptions, 'entities'> & { entities?: AppDataSourceOptions['entities'] },
): Provider[] {
  const handle = Symbol(`${name}:handle`);
  @Injectable()
  class DatabaseLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
    constructor(
      @Inject(tokens.db) private readonly db: DataSource,
      @Inject(tokens.outbox) private readonly relay: OutboxRelay,
      private readonly health: HealthRegistry,
    ) {}
    onApplicationBootstrap(): void {
      this.health.register(`${name}-db`, async () => {
        await pingDatabase(this.db);
      });
      this.relay.start();
    }
    async onApplicationShutdown(): Promise<void> {
      await this.relay.stop();
      if (this.db.isInitialized) await this.db.destroy();
    }
  }
  return [
    { provide: handle, useFactory: () => createAppDataSource({ entities: [], ...opts }) },
    { provide: tokens.db, inject: [handle], useFactory: (h: { dataSource: DataSource }) => h.dataSource },
    { provide: tokens.embedded, inject: [handle], useFactory: (h: { embedded: boolean }) => h.embedded },
    {
      provide: tokens.outbox,
      inject: [tokens.db, BUS, LOGGER],
      useFactory: (db: DataSource, bus: Bus, log: AppLogger) =>
        new OutboxRelay(new SqlOutboxStore(db, opts.schema), bus, { logger: log, pollMs: 1000 }),
    },
    DatabaseLifecycle,
  ];
}
