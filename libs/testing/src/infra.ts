import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

// Note [Test infrastructure]
// Integration and E2E tests use the real PostgreSQL and RabbitMQ of the machine:
// TEST_DATABASE_URL / TEST_AMQP_URL, defaulting to the local servers. Each test file gets its own
// database and its own RabbitMQ vhost, so files can run in parallel and leave nothing behind.
// Where nothing answers and a Docker engine does, testcontainers (@11) starts the servers;
// otherwise the test fails with one line that says what to start.

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

function reachable(url: string, defPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(1500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.connect(Number(u.port || defPort), u.hostname);
  });
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

let containerUrls: Promise<{ db: string; amqp: string }> | undefined;
async function fromContainers(): Promise<{ db: string; amqp: string }> {
  containerUrls ??= (async () => {
    // Only where a Docker engine answers; not a dependency of the default install.
    const tc = (await import(['testcontainers'].join(''))) as {
      GenericContainer: new (image: string) => {
        withEnvironment(e: Record<string, string>): unknown;
        withExposedPorts(...p: number[]): unknown;
        start(): Promise<{ getHost(): string; getMappedPort(p: number): number }>;
      };
    };
    const pg = (new tc.GenericContainer('postgres:15') as any) // eslint-disable-line @typescript-eslint/no-explicit-any
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .start();
    const mq = (new tc.GenericContainer('rabbitmq:3.13') as any).withExposedPorts(5672).start(); // eslint-disable-line @typescript-eslint/no-explicit-any
    const [p, m] = await Promise.all([pg, mq]);
    return {
      db: `postgres://postgres@${p.getHost()}:${p.getMappedPort(5432)}/postgres`,
      amqp: `amqp://guest:guest@${m.getHost()}:${m.getMappedPort(5672)}`,
    };
  })();
  return containerUrls;
}

/** The PostgreSQL server for tests, or a clear error saying what to start. */
export async function testDatabaseServerUrl(): Promise<string> {
  const url = process.env.TEST_DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (await reachable(url, 5432)) return url;
  if (await dockerAnswers()) return (await fromContainers()).db;
  throw new Error(
    `PostgreSQL is not reachable at ${url}: start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set TEST_DATABASE_URL`,
  );
}

/** The RabbitMQ server for tests, or a clear error saying what to start. */
export async function testAmqpServerUrl(): Promise<string> {
  const url = process.env.TEST_AMQP_URL ?? DEFAULT_AMQP_URL;
  if (await reachable(url, 5672)) return url;
  if (await dockerAnswers()) return (await fromContainers()).amqp;
  throw new Error(
    `RabbitMQ is not reachable at ${url}: start it (rabbitmq-server -detached) or set TEST_AMQP_URL`,
  );
}

export interface TestResource {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A fresh database for one test file. */
export async function createTestDatabase(label = 'test'): Promise<TestResource> {
  const server = await testDatabaseServerUrl();
  const name = `nt_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(server, name),
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function rabbitmqctl(args: string[]): Promise<void> {
  await run('rabbitmqctl', args, { timeout: 30_000 });
}

async function managementApi(server: URL, method: string, path: string, body?: object): Promise<boolean> {
  const base = process.env.TEST_RABBITMQ_MANAGEMENT_URL ?? `http://${server.hostname}:15672`;
  try {
    const r = await fetch(`${base}/api${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${decodeURIComponent(server.username || 'guest')}:${decodeURIComponent(server.password || 'guest')}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(3000),
    });
    return r.ok;
  } catch {
    return false;
  }
}

/** A fresh RabbitMQ vhost for one test file (management API, or rabbitmqctl on this machine). */
export async function createTestVhost(label = 'test'): Promise<TestResource> {
  const server = new URL(await testAmqpServerUrl());
  const name = `nt_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const user = decodeURIComponent(server.username || 'guest');
  let via: 'api' | 'ctl';
  if (await managementApi(server, 'PUT', `/vhosts/${name}`)) {
    await managementApi(server, 'PUT', `/permissions/${name}/${user}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    via = 'api';
  } else {
    try {
      await rabbitmqctl(['add_vhost', name]);
      await rabbitmqctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
      via = 'ctl';
    } catch (e) {
      throw new Error(
        `cannot create a RabbitMQ vhost for tests (no management API on :15672 and rabbitmqctl failed: ${(e as Error).message.split('\n')[0]})`,
      );
    }
  }
  const url = new URL(server.toString());
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (via === 'api') await managementApi(server, 'DELETE', `/vhosts/${name}`);
      else await rabbitmqctl(['delete_vhost', name]).catch(() => undefined);
    },
  };
}
