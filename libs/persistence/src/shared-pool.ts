import { EventEmitter } from 'node:events';
import * as pg from 'pg';

// Note [One session]
// PGlite has a single session: every connection to the embedded server shares it, so two
// connections interleaving the extended query protocol (Parse/Bind/Execute) overwrite each other's
// unnamed statements, and a transaction on one would swallow the statements of another. In embedded
// mode every DataSource of the process therefore goes through this one-connection pool: statements
// and transactions run one after another, never interleaved. (Code must not wait, inside a
// transaction, for something that itself needs the database — it would wait for ever.)

// Note [Fair share]
// One connection for every service module of the process is a budget that one busy consumer could
// take whole: a feed flooding the event log would queue thousands of statements ahead of the CPE's.
// So each DataSource (one per service module: a consumer) waits in its own line, and the connection
// goes round-robin to the next consumer with someone waiting — a consumer's backlog delays only
// itself, the others wait at most one turn per consumer. (With PostgreSQL each consumer has a pool
// of its own, `poolSize`, which is its budget; the server's max_connections bounds their sum.)

type Callback = (err: Error | undefined, client?: pg.PoolClient, release?: (e?: Error) => void) => void;

interface Shared {
  pool: pg.Pool;
  users: number;
  /** Connections handed out (at most one: the pool's size). */
  busy: number;
  /** Consumers with someone waiting, in round-robin order. */
  lines: Map<SharedPool, Callback[]>;
}

const pools = new Map<string, Shared>();

class SharedPool extends EventEmitter {
  private readonly key: string;
  private readonly inner: pg.Pool;
  private readonly shared: Shared;
  private ended = false;

  constructor(opts: pg.PoolConfig) {
    super();
    this.key = opts.connectionString ?? `${opts.host}:${opts.port}/${opts.database}`;
    let entry = pools.get(this.key);
    if (!entry) {
      entry = { pool: new pg.Pool({ ...opts, max: 1 }), users: 0, busy: 0, lines: new Map() };
      entry.pool.on('error', (e) => this.emit('error', e));
      pools.set(this.key, entry);
    }
    entry.users++;
    this.inner = entry.pool;
    this.shared = entry;
  }

  connect(cb?: Callback): Promise<pg.PoolClient> | void {
    if (!cb) {
      return new Promise<pg.PoolClient>((resolve, reject) => {
        void this.connect((err, client, release) => {
          if (err || !client) return reject(err ?? new Error('no connection'));
          // The promise form's client is released with client.release(): route it through ours.
          const own = client.release.bind(client);
          client.release = ((e?: Error | boolean) => {
            client.release = own;
            release!(e instanceof Error ? e : undefined);
          }) as typeof client.release;
          resolve(client);
        });
      });
    }
    const line = this.shared.lines.get(this) ?? [];
    line.push(cb);
    this.shared.lines.set(this, line);
    dispatch(this.shared);
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

/** Hands the connection to the next consumer in line (see Note [Fair share]). */
function dispatch(shared: Shared): void {
  while (shared.busy < 1 && shared.lines.size) {
    const [owner, line] = shared.lines.entries().next().value as [SharedPool, Callback[]];
    const cb = line.shift()!;
    // Round robin: this consumer goes to the back of the order (or leaves it when served).
    shared.lines.delete(owner);
    if (line.length) shared.lines.set(owner, line);
    shared.busy++;
    shared.pool.connect((err, client, release) => {
      if (err || !client) {
        shared.busy--;
        cb(err ?? new Error('no connection'));
        dispatch(shared);
        return;
      }
      let done = false;
      cb(undefined, client, (e?: Error) => {
        if (done) return;
        done = true;
        release(e);
        shared.busy--;
        dispatch(shared);
      });
    });
  }
}

/** The `pg` module with a Pool that shares one connection per server: see Note [One session]. */
export const sharedSessionPg = { ...pg, Pool: SharedPool } as unknown as typeof pg;
