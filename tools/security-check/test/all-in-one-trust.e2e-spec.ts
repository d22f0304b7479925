import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { buildApps, freePort, ServiceProcess, waitFor } from '@nephele/testing';
import { sleep } from '@nephele/util';
import { send } from './http';

const TOKEN = `boot-${randomBytes(16).toString('hex')}`;

/** Every file and directory under `dir` with its permission bits. */
function modes(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
  return out;
}

/** Starts (or restarts) a process, allowing a loaded machine more than the usual 30 s. */
async function startPatiently(p: ServiceProcess): Promise<void> {
  await p.start().catch(async (e: Error) => {
    if (p.child?.exitCode !== null) throw e;
    await waitFor(async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok, {
      timeoutMs: 180_000,
      what: `${p.app} to be ready`,
    });
  });
}

/**
 * The all-in-one (`npm start`) under attack: a kill -9 while events are being posted loses none of
 * the acknowledged ones, content the store would refuse is a 400, a revoked token is refused within
 * a second on every service's routes and its open event stream closes, and the data dir is private.
 */
describe('all-in-one: durable acceptance, revocation, private data (E2E)', () => {
  let dir: string;
  let svc: ServiceProcess;

  beforeAll(async () => {
    buildApps('nephele', 'agent');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-sec-aio-'));
    const port = await freePort();
    svc = new ServiceProcess(
      'nephele',
      {
        PORT: String(port),
        NEPHELE_EDGE_PORT: String(await freePort()),
        NEPHELE_DATA_DIR: path.join(dir, 'data'),
        NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
        NEPHELE_SEED: 'false',
        LOG_LEVEL: 'warn',
      },
      port,
    );
    await startPatiently(svc);
  }, 300_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged event over three kill -9 during event posting', async () => {
    const source = `/security-check/kill-${randomUUID()}`;
    const acked: string[] = [];
    for (let round = 0; round < 3; round++) {
      let stop = false;
      const poster = async (worker: number) => {
        for (let i = 0; !stop; i++) {
          const batch = Array.from({ length: 5 }, (_, j) => ({
            specversion: '1.0',
            id: `r${round}-w${worker}-${i}-${j}`,
            source,
            type: 'com.example.durable',
            data: { round, worker, i, j },
          }));
          const r = await send(svc.url, 'POST', '/v1/events', {
            token: TOKEN,
            body: batch,
            timeoutMs: 5000,
          }).catch(() => undefined);
          if (r?.status === 202) acked.push(...batch.map((e) => e.id));
          else if (r === undefined || r.status === 0) return;
        }
      };
      const before = acked.length;
      const workers = [0, 1, 2, 3].map((w) => poster(w));
      await waitFor(async () => acked.length - before >= 100, { timeoutMs: 60_000, what: '100 acks' });
      await svc.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await startPatiently(svc);
    }
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const q: string = `/v1/events?source=${encodeURIComponent(source)}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await send(svc.url, 'GET', q, { token: TOKEN })).json as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      for (const e of page.items) stored.add(e.id);
      cursor = page.nextCursor;
    } while (cursor);
    expect(acked.length).toBeGreaterThanOrEqual(300);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
  }, 900_000);

  it('refuses an event with NUL in its data with a 400 naming the field, and stores nothing', async () => {
    const id = randomUUID();
    const r = await send(svc.url, 'POST', '/v1/events', {
      token: TOKEN,
      body: { specversion: '1.0', id, source: '/sec', type: 'com.example.nul', data: { s: 'a\u0000b' } },
    });
    expect(r.status).toBe(400);
    expect((r.json as any).errors[0].field).toBe('data.s');
    expect((await send(svc.url, 'GET', `/v1/events/${id}`, { token: TOKEN })).status).toBe(404);
  });

  it('refuses a revoked token within a second on every service’s routes, and closes its event stream', async () => {
    const project = (
      (await send(svc.url, 'POST', '/v1/projects', { token: TOKEN, body: { name: `rev-${Date.now()}` } }))
        .json as { id: string }
    ).id;
    const created = (
      await send(svc.url, 'POST', '/v1/tokens', {
        token: TOKEN,
        body: { project, role: 'member', name: 'to-revoke' },
      })
    ).json as { id: string; token: string };
    const routes = [
      ['GET', '/v1/pools'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/events'],
      ['GET', '/v1/instances'],
      ['GET', '/v1/deployables'],
      ['GET', '/v1/groups'],
      ['GET', '/v1/feeds'],
      ['GET', '/cimi'],
    ] as const;
    // Warm every cache with the valid token.
    for (const [m, p] of routes) {
      expect([m, p, (await send(svc.url, m, p, { token: created.token })).status]).toEqual([m, p, 200]);
    }
    let ended = false;
    const ac = new AbortController();
    const stream = await fetch(`${svc.url}/v1/events/stream`, {
      headers: { authorization: `Bearer ${created.token}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    expect(stream.status).toBe(200);
    const reading = (async () => {
      const reader = stream.body!.getReader();
      for (;;) if ((await reader.read()).done) break;
      ended = true;
    })().catch(() => undefined);

    expect((await send(svc.url, 'DELETE', `/v1/tokens/${created.id}`, { token: TOKEN })).status).toBe(204);
    await sleep(1000);
    const after = [];
    for (const [m, p] of routes)
      after.push([m, p, (await send(svc.url, m, p, { token: created.token })).status]);
    const write = await send(svc.url, 'POST', '/v1/events', {
      token: created.token,
      body: { specversion: '1.0', id: randomUUID(), source: '/sec', type: 'com.example.x', data: {} },
    });
    after.push(['POST', '/v1/events', write.status]);
    expect(after).toEqual(after.map(([m, p]) => [m, p, 401]));
    expect(ended).toBe(true);
    ac.abort();
    await reading;
  });

  it('keeps its data dir private: directories 0700, files 0600 (database, master key)', () => {
    const data = path.join(dir, 'data');
    const all = modes(data);
    expect(all.find((e) => e.path === data)?.mode).toBe(0o700);
    expect(all.some((e) => e.path.endsWith('master-key'))).toBe(true);
    expect(all.filter((e) => e.path.includes('pgdata')).length).toBeGreaterThan(10);
    const open = all.filter((e) => (e.mode & 0o077) !== 0).map((e) => `${e.path} ${e.mode.toString(8)}`);
    expect(open).toEqual([]);
  });
});
