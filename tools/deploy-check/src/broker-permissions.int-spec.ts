import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { create_container } from 'rhea';
import { Topology } from '@nephele/contracts';
import { TestResource, createTestVhost } from '@nephele/testing';
import { BROKER_SERVICE_USERS } from './deploy.constants';
import { Definitions, DEFINITIONS_FILE } from './definitions.util';

const run = promisify(execFile);

// The real check of definitions.json: its users and permission regexes loaded into a throwaway
// vhost of the local RabbitMQ (users renamed with a random prefix; the regexes are unchanged, since
// they name queues, not users), then each user does what its service does — and what it must not.

/** rabbit_password_hashing_sha256: base64(salt ‖ sha256(salt ‖ password)). */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  const digest = createHash('sha256').update(Buffer.concat([salt, Buffer.from(password)])).digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

describe('RabbitMQ permissions of deploy/compose/rabbitmq/definitions.json (real broker)', () => {
  const defs = JSON.parse(readFileSync(DEFINITIONS_FILE, 'utf8')) as Definitions;
  const prefix = `dc${randomBytes(3).toString('hex')}-`;
  const password = randomBytes(12).toString('hex');
  const tested = [...BROKER_SERVICE_USERS, 'nephele-agent', 'nephele-client'];
  let vhost: TestResource;
  let port: number;

  beforeAll(async () => {
    // rhea reports every refused attach's connection teardown on console.error: expected here
    const print = console.error.bind(console);
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      if (!/error on read: ProtocolError/.test(String(args[0]))) print(...args);
    });
    vhost = await createTestVhost('deploy_check_perms');
    port = Number(new URL(vhost.url).port || 5672);
    // The CLI may run as the broker's own user: the file must be readable by others (it holds
    // only hashes of this run's random password).
    const dir = mkdtempSync(path.join(tmpdir(), 'nephele-defs-'));
    const file = path.join(dir, 'definitions.json');
    try {
      chmodSync(dir, 0o755);
      writeFileSync(
        file,
        JSON.stringify({
          users: tested.map((u) => ({
            name: prefix + u,
            password_hash: passwordHash(password),
            hashing_algorithm: 'rabbit_password_hashing_sha256',
            tags: [],
          })),
          vhosts: [{ name: vhost.name }],
          permissions: defs.permissions
            .filter((p) => tested.includes(p.user))
            .map((p) => ({ ...p, user: prefix + p.user, vhost: vhost.name })),
        }),
        { mode: 0o644 },
      );
      await run('rabbitmqctl', ['-q', 'import_definitions', file], { timeout: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  afterAll(async () => {
    for (let i = 0; i < tested.length; i += 4) {
      await Promise.all(
        tested
          .slice(i, i + 4)
          .map((u) => run('rabbitmqctl', ['-q', 'delete_user', prefix + u], { timeout: 30_000 }).catch(() => undefined)),
      );
    }
    await vhost?.drop();
  }, 90_000);

  const url = (user: string) =>
    `amqp://${encodeURIComponent(prefix + user)}:${password}@127.0.0.1:${port}/${encodeURIComponent(vhost.name)}`;

  /** Runs `fn` on a fresh channel as `user`: 'ok', or 'refused' when the broker closes it (403). */
  async function as091(user: string, fn: (ch: amqp.Channel) => Promise<unknown>): Promise<'ok' | 'refused'> {
    const conn = await amqp.connect(url(user));
    conn.on('error', () => undefined);
    try {
      const ch = await conn.createChannel();
      let denied = false;
      ch.on('error', (e: Error) => {
        if (/ACCESS_REFUSED|403/.test(e.message)) denied = true;
      });
      try {
        await fn(ch);
        // a publish is refused asynchronously: a round trip makes the broker's answer arrive
        await ch.checkExchange(Topology.events);
        return denied ? 'refused' : 'ok';
      } catch (e) {
        if (denied || /ACCESS_REFUSED|403|closed/i.test((e as Error).message)) return 'refused';
        throw e;
      }
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  it.each(BROKER_SERVICE_USERS)(
    '%s: declares the bus topology and its own queue, consumes what it bound, and is refused another service`s queue',
    async (svc) => {
      const other = svc === 'scaler' ? 'event-log' : 'scaler';
      const own = `${svc}.deploy-check`;
      expect(
        await as091(svc, async (ch) => {
          // what RabbitMqBus does on connect and per subscription (libs/bus/src/rabbitmq.bus.ts)
          await ch.assertExchange(Topology.events, 'topic', { durable: true });
          await ch.assertExchange(Topology.commands, 'topic', { durable: true });
          await ch.assertExchange(Topology.dlx, 'direct', { durable: true });
          await ch.assertQueue(Topology.dlq(svc), { durable: true });
          await ch.bindQueue(Topology.dlq(svc), Topology.dlx, Topology.dlq(svc));
          await ch.assertQueue(own, { durable: true });
          await ch.bindQueue(own, Topology.events, 'deploy-check.#');
          const got = new Promise<string>((resolve) => {
            void ch.consume(own, (m) => m && resolve(m.content.toString()), { noAck: true });
          });
          // outbox publishing and dead-lettering
          ch.publish(Topology.events, 'deploy-check.ping', Buffer.from(svc));
          ch.publish(Topology.dlx, Topology.dlq(svc), Buffer.from('dead'));
          expect(await got).toBe(svc);
        }),
      ).toBe('ok');
      expect(await as091(svc, (ch) => ch.assertQueue(`${other}.deploy-check`, { durable: true }))).toBe(
        'refused',
      );
      expect(await as091(svc, (ch) => ch.consume(Topology.dlq(other), () => undefined))).toBe('refused');
      // nobody but the admin makes other exchanges
      expect(await as091(svc, (ch) => ch.assertExchange('nephele.deploy-check', 'topic'))).toBe('refused');
    },
    30_000,
  );

  /** Attaches one AMQP 1.0 link through RabbitMQ's plugin as `user`: 'ok' or 'refused'. */
  function as10(user: string, role: 'send' | 'receive', address: string): Promise<'ok' | 'refused'> {
    return new Promise((resolve) => {
      const container = create_container({ id: `deploy-check-${randomBytes(4).toString('hex')}` });
      const conn = container.connect({
        host: '127.0.0.1',
        port,
        username: prefix + user,
        password,
        hostname: `vhost:${vhost.name}`,
        reconnect: false,
      });
      let settled = false;
      const done = (r: 'ok' | 'refused') => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.close();
        resolve(r);
      };
      const timer = setTimeout(() => done('refused'), 10_000);
      for (const ev of ['connection_error', 'session_error', 'sender_error', 'receiver_error', 'disconnected'])
        conn.on(ev, () => done('refused'));
      conn.on('error', () => done('refused'));
      conn.on('connection_open', () => {
        if (role === 'receive') {
          conn.open_receiver({ source: { address } }).on('receiver_open', () =>
            // a refused attach opens, then closes at once: give the broker a moment to say so
            setTimeout(() => done('ok'), 300),
          );
        } else {
          const sender = conn.open_sender({ target: { address } });
          sender.once('sendable', () => sender.send({ body: 'deploy-check' }));
          sender.on('accepted', () => done('ok'));
          sender.on('rejected', () => done('refused'));
        }
      });
    });
  }

  it('agents: receive only their command queues, send results and heartbeats, nothing else', async () => {
    expect(await as10('nephele-agent', 'receive', '/queue/nephele.agent.a1')).toBe('ok');
    expect(await as10('nephele-agent', 'send', '/queue/nephele.agent.events.d1')).toBe('ok');
    // another deployable's events (heartbeats, results) are the DPE's to read
    expect(await as10('nephele-agent', 'receive', '/queue/nephele.agent.events.d1')).toBe('refused');
    // no management requests, no core bus
    expect(await as10('nephele-agent', 'send', '/queue/nephele.cpe')).toBe('refused');
    expect(await as10('nephele-agent', 'receive', '/queue/nephele.cpe')).toBe('refused');
    expect(await as10('nephele-agent', 'send', '/exchange/nephele.events/x')).toBe('refused');
    expect(await as091('nephele-agent', (ch) => ch.assertQueue('config-api.deploy-check'))).toBe('refused');
  }, 60_000);

  it('management clients: send to nephele.cpe and read their reply queue, nothing else', async () => {
    expect(await as10('nephele-client', 'send', '/queue/nephele.cpe')).toBe('ok');
    expect(await as10('nephele-client', 'receive', '/queue/reply.c1')).toBe('ok');
    expect(await as10('nephele-client', 'receive', '/queue/nephele.cpe')).toBe('refused');
    expect(await as10('nephele-client', 'receive', '/queue/nephele.agent.a1')).toBe('refused');
    expect(await as10('nephele-client', 'send', '/queue/nephele.agent.a1')).toBe('refused');
    expect(await as10('nephele-client', 'send', '/exchange/nephele.commands/x')).toBe('refused');
  }, 60_000);

  it('the CPE serves nephele.cpe; the DPE worker commands agents and reads their events', async () => {
    expect(await as10('cloud-policy-engine', 'receive', '/queue/nephele.cpe')).toBe('ok');
    expect(await as10('cloud-policy-engine', 'send', '/queue/reply.c1')).toBe('ok');
    expect(await as10('dpe-worker', 'send', '/queue/nephele.agent.a1')).toBe('ok');
    expect(await as10('dpe-worker', 'receive', '/queue/nephele.agent.events.d1')).toBe('ok');
    expect(await as10('dpe-worker', 'receive', '/queue/reply.w1')).toBe('ok');
    // an agent's command queue is the agent's to read
    expect(await as10('dpe-worker', 'receive', '/queue/nephele.agent.a1')).toBe('refused');
    expect(await as10('dpe-worker', 'receive', '/queue/nephele.cpe')).toBe('refused');
    expect(await as10('scaler', 'receive', '/queue/nephele.cpe')).toBe('refused');
  }, 60_000);
});
