import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import path from 'node:path';
import { Client } from 'pg';
import { RabbitMqBus } from '@nephele/bus';
import {
  CloudEvent,
  createEvent,
  DpeControl,
  DpeHeartbeat,
  InstanceQuery,
  TokenIntrospect,
  Topology,
} from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  TestResource,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import { CpeAppModule } from '../app.module';
import { loadCpeConfig } from '../config/env';

const TOKEN = 'cpe-hosts-admin-token-0123456789abcdef';
const N = 6;

interface Row {
  deployable_id: string;
  epoch: number;
  state: string;
  worker_id: string;
  pid: number;
}

/**
 * Two DPE worker processes (DPE_WORKERS=2) share the deployables: every DPE runs on exactly one of
 * them, and a worker that dies or goes silent hands its DPEs to the other under a new epoch
 * (Note [DPE placement], Note [Fencing]). Real PostgreSQL, RabbitMQ and worker processes.
 */
describe('DPE hosts: placement and failover (real PostgreSQL + RabbitMQ + two worker processes)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let app: INestApplication;
  let url: string;
  let pg: Client;
  let conn: amqp.ChannelModel;
  let peer: RabbitMqBus;
  /** Every DPE heartbeat heard, and every control command sent. */
  const beats: { at: number; deployableId: string; epoch: number; workerId: string }[] = [];
  const controls: { workerId: string; deployableId: string; action: string; epoch: number }[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    buildApps('dpe-worker');
    [db, vhost] = await Promise.all([createTestDatabase('cpe_hosts'), createTestVhost('cpe_hosts')]);
    conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    for (const [x, key, sink] of [
      [
        Topology.events,
        DpeHeartbeat.type,
        (e: CloudEvent) => beats.push({ at: Date.now(), ...(e.data as any) }),
      ],
      [Topology.commands, DpeControl.type, (e: CloudEvent) => controls.push(e.data as any)],
    ] as const) {
      await ch.assertExchange(x, 'topic', { durable: true });
      const q = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(q.queue, x, key);
      await ch.consume(q.queue, (m) => m && sink(JSON.parse(m.content.toString())), { noAck: true });
    }
    // The state tracker's and the token side: nothing runs.
    peer = new RabbitMqBus({ url: vhost.url, service: 'hoststest' });
    await peer.start();
    await peer.respond('hoststest.instances', [InstanceQuery.type], async () => ({ items: [] }));
    await peer.respond('hoststest.tokens', [TokenIntrospect.type], async () => null);
    app = await createHttpApp(
      CpeAppModule.forRoot(
        loadCpeConfig({
          DATABASE_URL: db.url,
          AMQP_URL: vhost.url,
          AMQP10_URL: `amqp://guest:guest@127.0.0.1:5672/${vhost.name}`,
          NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
          CPE_RUNTIME: 'process',
          CPE_DEFAULT_PROJECT: 'proj-hosts',
          DPE_WORKERS: '2',
          DPE_PER_WORKER: '100',
          DPE_HEARTBEAT_TIMEOUT_MS: '2000',
          DPE_START_GRACE_MS: '20000',
          DPE_WORKER_MAIN: path.join(WORKSPACE_ROOT, 'dist/apps/dpe-worker/main.js'),
          LOG_LEVEL: 'warn',
        }),
      ),
      { title: 'test' },
    );
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await app?.close();
    // DPE workers outlive a CPE on purpose (a standby adopts them): stop this test's workers.
    const { rows } = await pg.query(`SELECT DISTINCT pid FROM cpe.dpe_registry WHERE pid IS NOT NULL`);
    for (const r of rows) {
      try {
        process.kill(r.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await pg?.end();
    await conn?.close();
    await peer?.close();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  const rows = async (): Promise<Row[]> =>
    (await pg.query(`SELECT * FROM cpe.dpe_registry ORDER BY deployable_id`)).rows as Row[];
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** Every deployable running (heartbeating under its current epoch), or undefined. */
  const allRunning = async (pred: (r: Row) => boolean = () => true) => {
    const rs = await rows();
    return rs.length === N && rs.every((r) => r.state === 'running' && pred(r)) ? rs : undefined;
  };
  /** Who heartbeated for each deployable in the last `ms`: deployable → set of "worker@epoch". */
  const heardFrom = async (ms: number) => {
    const since = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    const m = new Map<string, Set<string>>();
    for (const b of beats.filter((x) => x.at >= since))
      (m.get(b.deployableId) ?? m.set(b.deployableId, new Set()).get(b.deployableId)!).add(
        `${b.workerId}@${b.epoch}`,
      );
    return m;
  };
  /** Each deployable heard from exactly one worker, its registry's, under its current epoch. */
  const expectExactlyOnce = async (rs: Row[]) => {
    const heard = await heardFrom(3000);
    for (const r of rs)
      expect([...(heard.get(r.deployable_id) ?? [])]).toEqual([`${r.worker_id}@${r.epoch}`]);
  };

  it('splits the deployables between the two workers: each DPE on exactly one', async () => {
    for (let i = 0; i < N; i++) {
      const doc = {
        name: `h${i}`,
        pool: 'default',
        monitor: { heartbeatInterval: '1s', missedHeartbeats: 3 },
        assemblies: [{ name: 'a1', image: 'debian-12', hardwareProfile: 'small', services: [] }],
      };
      const r = await fetch(`${url}/v1/deployables?project=proj-hosts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'nephele/v1', kind: 'Deployable', ...doc }),
      });
      expect(r.status).toBe(201);
      ids.push(((await r.json()) as { id: string }).id);
    }
    const rs = await waitFor(() => allRunning(), { timeoutMs: 60_000, what: 'every DPE heartbeating' });
    const perWorker = new Map<string, number>();
    for (const r of rs) perWorker.set(r.worker_id, (perWorker.get(r.worker_id) ?? 0) + 1);
    expect([...perWorker.values()]).toEqual([N / 2, N / 2]);
    expect(new Set(rs.map((r) => r.pid)).size).toBe(2);
    expect(rs.every((r) => r.epoch === 1)).toBe(true);
    await expectExactlyOnce(rs);
  });

  it('moves the DPEs of a killed worker to the other under new epochs: none lost, none twice', async () => {
    const before = await rows();
    const victim = before[0]!;
    const survivor = before.find((r) => r.worker_id !== victim.worker_id)!;
    process.kill(victim.pid, 'SIGKILL');
    const after = await waitFor(() => allRunning((r) => r.worker_id === survivor.worker_id), {
      timeoutMs: 60_000,
      what: "the killed worker's DPEs running on the other",
    });
    for (const r of after) {
      const was = before.find((b) => b.deployable_id === r.deployable_id)!;
      expect(r.epoch).toBe(was.worker_id === victim.worker_id ? was.epoch + 1 : was.epoch);
    }
    expect(alive(victim.pid)).toBe(false);
    await expectExactlyOnce(after);
  });

  it('moves the DPEs of a silent (hung) worker: killed once its DPEs are stopped, all restarted elsewhere', async () => {
    const before = await rows();
    const hung = before[0]!;
    process.kill(hung.pid, 'SIGSTOP');
    const after = await waitFor(
      () =>
        allRunning(
          (r) =>
            r.worker_id !== hung.worker_id &&
            r.epoch > before.find((b) => b.deployable_id === r.deployable_id)!.epoch,
        ),
      { timeoutMs: 90_000, what: "the silent worker's DPEs running elsewhere" },
    );
    await waitFor(() => !alive(hung.pid), { timeoutMs: 15_000, what: 'the silent worker killed' });
    await expectExactlyOnce(after);
  });

  it('tells a host still heartbeating an older epoch to stop that DPE (a returning host cannot run a duplicate)', async () => {
    const [r] = await rows();
    const stale = { deployableId: r!.deployable_id, epoch: r!.epoch - 1, workerId: 'w-returning', pid: 1 };
    await peer.publish(createEvent('dpe-worker', DpeHeartbeat.type, stale, { subject: stale.deployableId }));
    await waitFor(
      () =>
        controls.find(
          (c) =>
            c.workerId === stale.workerId &&
            c.deployableId === stale.deployableId &&
            c.action === 'stop' &&
            c.epoch === stale.epoch,
        ),
      { timeoutMs: 15_000, what: 'a stop for the stale DPE' },
    );
    // The current DPE is not disturbed.
    await expectExactlyOnce(await rows());
  });
});
