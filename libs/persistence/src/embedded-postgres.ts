import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

// Note [Embedded PostgreSQL]
// With no DATABASE_URL, Nephele runs PostgreSQL in-process: PGlite (PostgreSQL compiled to WASM)
// served on a loopback port by pglite-socket, so TypeORM and `pg` talk to it exactly as to a real
// server and the same migrations run on both. PGlite has one session: every service module in the
// process shares this one server (pglite-socket runs one transaction at a time across its
// connections), each DataSource uses a single connection, and nothing uses COPY
// (it breaks the socket server). Data lives under NEPHELE_DATA_DIR (default ./.nephele/pgdata);
// `memory://` keeps it in memory (tests). The data is private to its owner: directories 0700,
// files 0600 (existing ones are tightened at start; new ones follow the process umask 077).

interface Embedded {
  url: string;
  stop(): Promise<void>;
}

let instance: Promise<Embedded> | undefined;

export function embeddedDataDir(): string {
  return process.env.NEPHELE_DATA_DIR ?? path.resolve('.nephele');
}

/**
 * Makes `dir` private to the process's user: creates it 0700 if missing, then sets every
 * directory under it to 0700 and every file to 0600. Also narrows the process umask to 077 so the
 * files written later (PGlite's WAL, the local driver's records) are born private.
 */
export function restrictDataDir(dir: string): void {
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(p, 0o700);
      for (const name of readdirSync(p)) walk(path.join(p, name));
    } else if ((st.mode & 0o077) !== 0) {
      chmodSync(p, st.mode & 0o700);
    }
  };
  walk(dir);
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
    if (!dataDir.startsWith('memory://')) restrictDataDir(dataDir);
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
