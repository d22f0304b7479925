import { INestApplication } from '@nestjs/common';
import path from 'node:path';
import { Client } from 'pg';
import { RabbitMqBus } from '@nephele/bus';
import { InstanceQuery } from '@nephele/contracts';
import { createHttpApp } from '@nephele/service-kit';
import {
  buildApps,
  createTestDatabase,
  createTestVhost,
  TestResource,
  waitFor,
  WORKSPACE_ROOT,
} from '@nephele/testing';
import { CpeAppModule } from './app.module';
import { loadCpeConfig } from './config/env';
import { SupervisorService } from './dpe/supervisor.service';

const TOKEN = 'cpe-leader-admin-token-0123456789';

/** Two CPE replicas on one database: one leader by advisory lock; the standby takes over and adopts. */
describe('CPE leadership (real PostgreSQL + RabbitMQ + DPE processes)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let a: INestApplication | undefined;
  let b: INestApplication | undefined;
  let pg: Client;
  let peer: RabbitMqBus;

  const start = async () => {
    const app = await createHttpApp(
      CpeAppModule.forRoot(
        loadCpeConfig({
          DATABASE_URL: db.url,
          AMQP_URL: vhost.url,
          NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
          CPE_RUNTIME: 'process',
          DPE_HEARTBEAT_TIMEOUT_MS: '2000',
          DPE_WORKER_MAIN: path.join(WORKSPACE_ROOT, 'dist/apps/dpe-worker/main.js'),
          LOG_LEVEL: 'warn',
        }),
      ),
      { title: 'test' },
    );
    await app.listen(0, '127.0.0.1');
    return app;
  };

  beforeAll(async () => {
    buildApps('dpe-worker');
    [db, vhost] = await Promise.all([createTestDatabase('cpe_leader'), createTestVhost('cpe_leader')]);
    peer = new RabbitMqBus({ url: vhost.url, service: 'leadertest' });
    await peer.start();
    await peer.respond('leadertest.instances', [InstanceQuery.type], async () => ({ items: [] }));
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    const { rows } = await pg.query(`SELECT pid FROM cpe.dpe_registry WHERE pid IS NOT NULL`);
    for (const r of rows) {
      try {
        process.kill(r.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await pg.end();
    await peer.close();
    await Promise.all([db.drop(), vhost.drop()]);
  });

  const registry = async () => (await pg.query(`SELECT epoch, pid, state FROM cpe.dpe_registry`)).rows[0];

  it('elects one leader; the standby takes over when it goes, adopts the live DPE, and restarts it when it dies', async () => {
    a = await start();
    b = await start();
    await waitFor(() => a!.get(SupervisorService).isLeader() !== b!.get(SupervisorService).isLeader(), {
      what: 'exactly one leader',
    });
    const leader = a.get(SupervisorService).isLeader() ? a : b;
    const url = (await leader.getUrl()).replace('[::1]', '127.0.0.1');
    const r = await fetch(`${url}/v1/deployables?project=p1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'solo',
        assemblies: [{ name: 'a1', image: 'debian-12', hardwareProfile: 'small', services: [] }],
      }),
    });
    expect(r.status).toBe(201);
    const first = await waitFor(
      async () => ((await registry())?.state === 'running' ? registry() : undefined),
      { timeoutMs: 20_000, what: 'the DPE running' },
    );
    expect(first.epoch).toBe(1);

    // The leader goes away (its DPE worker keeps running: workers outlive a CPE).
    await leader.close();
    const standby = leader === a ? b : a;
    if (leader === a) a = undefined;
    else b = undefined;
    await waitFor(() => standby.get(SupervisorService).isLeader(), {
      timeoutMs: 10_000,
      what: 'the standby to lead',
    });
    await new Promise((res) => setTimeout(res, 4000)); // past the heartbeat timeout
    const adopted = await registry();
    expect(adopted.epoch).toBe(1); // adopted, not restarted
    expect(adopted.pid).toBe(first.pid);

    process.kill(first.pid, 'SIGKILL');
    const restarted = await waitFor(
      async () => {
        const x = await registry();
        return x.epoch === 2 && x.state === 'running' ? x : undefined;
      },
      { timeoutMs: 30_000, what: 'the new leader restarting the killed DPE' },
    );
    expect(restarted.pid).not.toBe(first.pid);
  });
});
