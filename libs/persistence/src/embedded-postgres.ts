import { mkdirSync } from 'node:fs';
import path from 'node:path';

// Note [Embedded PostgreSQL]
// With no DATABASE_URL, Nephele runs PostgreSQL in-process: PGlite (PostgreSQL compiled to WASM)
// served on a loopback port by pglite-socket, so TypeORM and `pg` talk to it exactly as to a real
// server and the same migrations run on both. PGlite has one session: every service module in the
// process shares this one server (pglite-socket runs one transaction at a time across its
// connections), each DataSource uses a single connection, and nothing uses COPY
// (it breaks the socket server). Data lives under NEPHELE_DATA_DIR (default ./.nephele/pgdata);
// `memory://` keeps it in memory (tests).

interface Embedded {
  url: string;
  stop(): Promise<void>;
}

let instance: Promise<Embedded> | undefined;

export function embeddedDataDir(): string {
  return process.env.NEPHELE_DATA_DIR ?? path.resolve('.nephele');
}

function defaultPgDir(): string {
  const base = embeddedDataDir();
  return base.startsWith('memory://') ? 'memory://' : path.join(base, 'pgdata');
}

/** Starts (once per process) the embedded PostgreSQL and returns its connection URL. */
export function startEmbeddedPostgres(dataDir = defaultPgDir()): Promise<Embedded> {
  instance ??= (async () => {
    // ESM-only packages: loaded with a dynamic import so the CommonJS bundle can use them.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir);
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 64 });
    await server.start();
    const port = (server as unknown as { port?: number }).port ?? portOf(server);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: async () => {
        await server.stop();
        await db.close();
        instance = undefined;
      },
    };
  })();
  return instance;
}

function portOf(server: unknown): number {
  const s = server as { server?: { address(): { port: number } | string | null } };
  const addr = s.server?.address();
  if (addr && typeof addr === 'object') return addr.port;
  throw new Error('embedded PostgreSQL did not report its port');
}

export async function stopEmbeddedPostgres(): Promise<void> {
  const e = await instance;
  await e?.stop();
}
