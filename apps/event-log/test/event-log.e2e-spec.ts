import * as amqp from 'amqplib';
import { Client } from 'pg';
import { createEvent, Topology } from '@nephele/contracts';
import { createTestDatabase, createTestVhost, ServiceProcess, TestResource, waitFor } from '@nephele/testing';

const TOKEN = 'e2e-admin-token-abcdef0123456789abcdef';

/** The event log as its own process: SIGKILL mid-stream loses no confirmed event. */
describe('event-log process (E2E)', () => {
  let db: TestResource;
  let vhost: TestResource;
  let svc: ServiceProcess;
  let pg: Client;

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase('el_e2e'), createTestVhost('el_e2e')]);
    svc = await ServiceProcess.start('event-log', {
      DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
    });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    await pg?.end();
    await Promise.all([db?.drop(), vhost?.drop()]);
  });

  it('stores every confirmed event when the process is SIGKILLed mid-stream and restarted', async () => {
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    const confirmed = new Set<string>();
    const total = 6000;
    let killed = false;
    for (let i = 0; i < total; i++) {
      const e = createEvent(
        'e2e',
        'nephele.config.changed',
        { resource: 'pools', id: `k${i}`, action: 'created' as const },
        { subject: 'kill-test' },
      );
      ch.publish(Topology.events, e.type, Buffer.from(JSON.stringify(e)), { persistent: true }, (err) => {
        if (!err) confirmed.add(e.id);
      });
      if (i % 200 === 199) {
        await ch.waitForConfirms();
        if (!killed && i >= 2000) {
          // Mid-stream: some events stored, some in flight in the consumer, the rest queued.
          await svc.kill('SIGKILL');
          killed = true;
        }
      }
    }
    await ch.waitForConfirms();
    await conn.close();
    expect(confirmed.size).toBe(total);
    await svc.start();
    await waitFor(
      async () => {
        const { rows } = await pg.query(
          `SELECT count(*)::int AS n FROM event_log.events WHERE subject = 'kill-test'`,
        );
        return rows[0].n >= total;
      },
      { timeoutMs: 60_000, what: 'every confirmed event stored' },
    );
    const { rows } = await pg.query(`SELECT id FROM event_log.events WHERE subject = 'kill-test'`);
    const stored = new Set(rows.map((r: { id: string }) => r.id));
    expect(stored.size).toBe(total);
    expect(rows).toHaveLength(total);
    for (const id of confirmed) expect(stored.has(id)).toBe(true);
  });

  it('serves health, readiness, metrics and OpenAPI', async () => {
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as any;
    expect(ready).toEqual({ status: 'ok', checks: { bus: 'ok', 'event-log-db': 'ok' } });
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/nephele_event_log_stored_total\{service="event-log"\} \d+/);
    const doc = (await (await fetch(`${svc.url}/docs/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/events/stream', '/v1/events/{id}']),
    );
  });

  it('never logs the bearer token it was given', async () => {
    await fetch(`${svc.url}/v1/events?limit=1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await fetch(`${svc.url}/v1/events?limit=1`, { headers: { authorization: `Bearer wrong-${TOKEN}` } });
    expect(svc.output).not.toContain(TOKEN);
  });
});
