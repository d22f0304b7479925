import { EventEmitter } from 'node:events';
import * as pg from 'pg';

// Note [One session]
// PGlite has a single session: every connection to the embedded server shares it, so two
// connections interleaving the extended query protocol (Parse/Bind/Execute) overwrite each other's
// unnamed statements, and a transaction on one would swallow the statements of another. In embedded
// mode every DataSource of the process therefore goes through this one-connection pool: statements
// and transactions run one after another, never interleaved. (Code must not wait, inside a
// transaction, for something that itself needs the database — it would wait for ever.)

type Callback = (err: Error | undefined, client?: pg.PoolClient, release?: (e?: Error) => void) => void;

const pools = new Map<string, { pool: pg.Pool; users: number }>();

class SharedPool extends EventEmitter {
  private readonly key: string;
  private readonly inner: pg.Pool;
  private ended = false;

  constructor(opts: pg.PoolConfig) {
    super();
    this.key = opts.connectionString ?? `${opts.host}:${opts.port}/${opts.database}`;
    let entry = pools.get(this.key);
    if (!entry) {
      entry = { pool: new pg.Pool({ ...opts, max: 1 }), users: 0 };
      entry.pool.on('error', (e) => this.emit('error', e));
      pools.set(this.key, entry);
    }
    entry.users++;
    this.inner = entry.pool;
  }

  connect(cb?: Callback): Promise<pg.PoolClient> | void {
    if (!cb) return this.inner.connect();
    this.inner.connect((err, client, release) => cb(err ?? undefined, client, release));
  }

  query(...args: unknown[]): unknown {
    return (this.inner.query as (...a: unknown[]) => unknown)(...args);
  }

  end(cb?: (err?: Error) => void): Promise<void> | void {
    const done = (): Promise<void> => {
      if (this.ended) return Promise.resolve();
      this.ended = true;
      const entry = pools.get(this.key);
      if (!entry) return Promise.resolve();
      entry.users--;
      if (entry.users > 0) return Promise.resolve();
      pools.delete(this.key);
      return entry.pool.end();
    };
    if (!cb) return done();
    done().then(
      () => cb(),
      (e: Error) => cb(e),
    );
  }

  get totalCount(): number {
    return this.inner.totalCount;
  }
  get idleCount(): number {
    return this.inner.idleCount;
  }
  get waitingCount(): number {
    return this.inner.waitingCount;
  }
}

/** The `pg` module with a Pool that shares one connection per server: see Note [One session]. */
export const sharedSessionPg = { ...pg, Pool: SharedPool } as unknown as typeof pg;
