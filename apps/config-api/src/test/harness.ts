import * as amqp from 'amqplib';
import { INestApplication } from '@nestjs/common';
import { RabbitMqBus } from '@nephele/bus';
import { CloudEvent, Topology } from '@nephele/contracts';
import { createLogger } from '@nephele/observability';
import { createHttpApp } from '@nephele/service-kit';
import { createTestDatabase, createTestVhost, TestResource } from '@nephele/testing';
import { ConfigApiAppModule } from '../app.module';
import { loadConfigApiConfig } from '../config/env';

export const ADMIN = 'int-test-admin-token-0123456789abcdefghij';

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** A tiny REST client bound to one token. */
export class Client {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  async req(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const h: Record<string, string> = { ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed, headers: r.headers };
  }
  get = (path: string, headers?: Record<string, string>) => this.req('GET', path, undefined, headers);
  post = (path: string, body: unknown) => this.req('POST', path, body);
  patch = (path: string, body: unknown, headers?: Record<string, string>) =>
    this.req('PATCH', path, body, headers);
  del = (path: string, headers?: Record<string, string>) => this.req('DELETE', path, undefined, headers);

  /** POST that must answer 201; returns the body. */
  async create(path: string, body: unknown): Promise<any> {
    const r = await this.post(path, body);
    if (r.status !== 201) throw new Error(`POST ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  as(token?: string): Client {
    return new Client(this.url, token);
  }
}

export interface Harness {
  db: TestResource;
  vhost: TestResource;
  app: INestApplication;
  admin: Client;
  /** Every log line the app wrote (JSON, LOG_LEVEL as given). */
  logs: string[];
  /** Every message published on nephele.events, as raw bodies. */
  published: string[];
  events(): CloudEvent[];
  /** A bus client of its own (like another service). */
  bus: RabbitMqBus;
  close(): Promise<void>;
}

export async function startApp(
  env: Record<string, string>,
  logs: string[] = [],
): Promise<{ app: INestApplication; url: string }> {
  const config = loadConfigApiConfig(env);
  const logger = createLogger('config-api', env.LOG_LEVEL ?? 'debug', {
    write: (s: string) => void logs.push(s),
  });
  const app = await createHttpApp(ConfigApiAppModule.forRoot(config, { logger }), { title: 'test' });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url };
}

/** The config-api in-process against its own PostgreSQL database and RabbitMQ vhost. */
export async function startHarness(label: string, env: Record<string, string> = {}): Promise<Harness> {
  const [db, vhost] = await Promise.all([createTestDatabase(label), createTestVhost(label)]);
  const logs: string[] = [];
  const { app, url } = await startApp(
    { DATABASE_URL: db.url, AMQP_URL: vhost.url, NEPHELE_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'debug', ...env },
    logs,
  );
  const conn = await amqp.connect(vhost.url);
  const ch = await conn.createChannel();
  const q = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(q.queue, Topology.events, '#');
  const published: string[] = [];
  await ch.consume(q.queue, (m) => m && published.push(m.content.toString()), { noAck: true });
  const bus = new RabbitMqBus({ url: vhost.url, service: 'int-client' });
  await bus.start();
  return {
    db,
    vhost,
    app,
    admin: new Client(url, ADMIN),
    logs,
    published,
    events: () => published.map((s) => JSON.parse(s) as CloudEvent),
    bus,
    close: async () => {
      await bus.close();
      await conn.close().catch(() => undefined);
      await app.close();
      await Promise.all([db.drop(), vhost.drop()]);
    },
  };
}
