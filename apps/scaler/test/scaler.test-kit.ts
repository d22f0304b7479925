import { INestApplication } from '@nestjs/common';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bus, Outcome, RabbitMqBus } from '@nephele/bus';
import {
  CloudEvent,
  createEvent,
  InstanceActionData,
  InstanceCreate,
  InstanceCreateData,
  InstanceDestroy,
  InstanceState,
  Topology,
} from '@nephele/contracts';
import { createLoadBalancerDriver, LoadBalancerDriver } from '@nephele/drivers';
import { createHttpApp } from '@nephele/service-kit';
import { freePort, waitFor } from '@nephele/testing';
import { ScalerAppModule } from '../src/app.module';
import { loadScalerConfig } from '../src/config/env';

// Test fixtures of the scaler's integration tests: a real HAProxy, a bus peer playing the
// iaas-gateway and the state tracker, an HTTP receiver for customer webhooks, and the scaler
// itself as an in-process Nest app.

export interface Haproxy {
  socketPath: string;
  frontPort: number;
  driver: LoadBalancerDriver;
  stop(): Promise<void>;
}

/** A real HAProxy with empty backends (default: `web`) and an admin Runtime API socket. */
export async function startHaproxy(backends: string[] = ['web']): Promise<Haproxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nephele-scaler-haproxy-'));
  const frontPort = await freePort();
  const socketPath = path.join(dir, 'admin.sock');
  writeFileSync(
    path.join(dir, 'haproxy.cfg'),
    [
      'global',
      `  stats socket ${socketPath} mode 600 level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend fe',
      `  bind 127.0.0.1:${frontPort}`,
      `  default_backend ${backends[0]}`,
      ...backends.flatMap((b) => [`backend ${b}`, '  balance roundrobin']),
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const driver = createLoadBalancerDriver('haproxy', { socketPath, pollMs: 20 });
  await waitFor(
    () =>
      driver.listMembers(backends[0]!).then(
        () => true,
        () => false,
      ),
    {
      what: `haproxy to answer on its socket (output: ${output})`,
    },
  );
  return {
    socketPath,
    frontPort,
    driver,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP server that records what it receives and answers `status()` (default 204). */
export async function startReceiver(
  status: (n: number) => number = () => 204,
): Promise<{ url: string; received: ReceivedRequest[]; close(): Promise<void> }> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.statusCode = status(received.length);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface FakeInstance {
  instanceId: string;
  key: string;
  owner: string;
  version: number;
  state: InstanceState;
  create: InstanceCreateData;
}

/**
 * Plays the iaas-gateway and the state tracker on the bus: answers `instance.create` with
 * `launch_succeeded` (pending) then `state_changed` running (unless `holdPending`), or with
 * `launch_failed` (when `failLaunches`), and `instance.destroy` with `action_completed`.
 */
export class FakeGateway {
  bus!: Bus;
  readonly creates: InstanceCreateData[] = [];
  readonly destroys: InstanceActionData[] = [];
  readonly byKey = new Map<string, FakeInstance>();
  readonly byId = new Map<string, FakeInstance>();
  readonly events: CloudEvent[] = [];
  holdPending = false;
  /** Instances of these images stay pending (a new image that never becomes healthy). */
  readonly holdImages = new Set<string>();
  failLaunches = false;
  address = '127.0.0.1';

  async start(url: string, name = 'scalertest'): Promise<void> {
    this.bus = new RabbitMqBus({ url, service: name });
    await this.bus.start();
    await this.bus.subscribe({
      queue: `${name}.gateway`,
      exchange: Topology.commands,
      bindings: [InstanceCreate.type, InstanceDestroy.type],
      prefetch: 64,
      handler: async (e) => {
        if (e.type === InstanceCreate.type) await this.onCreate(e.data as InstanceCreateData);
        else await this.onDestroy(e.data as InstanceActionData);
        return Outcome.ack();
      },
    });
    await this.bus.subscribe({
      queue: `${name}.events`,
      exchange: Topology.events,
      bindings: ['nephele.group.#', 'nephele.policy.#', 'nephele.webhook.#', 'nephele.audit.#'],
      handler: async (e) => {
        this.events.push(e);
        return Outcome.ack();
      },
    });
  }

  private async onCreate(d: InstanceCreateData): Promise<void> {
    this.creates.push(d);
    const existing = this.byKey.get(d.idempotencyKey);
    if (existing) return; // idempotent: the same key never makes a second instance
    const inst: FakeInstance = {
      instanceId: randomUUID(),
      key: d.idempotencyKey,
      owner: d.owner,
      version: 1,
      state: 'pending',
      create: d,
    };
    const base = {
      instanceId: inst.instanceId,
      owner: d.owner,
      idempotencyKey: d.idempotencyKey,
      pool: d.pool,
    };
    if (this.failLaunches) {
      await this.bus.publish(
        createEvent('gw', 'nephele.instance.launch_failed', {
          ...base,
          reason: 'no candidate: quota exceeded',
        }),
      );
      return;
    }
    this.byKey.set(d.idempotencyKey, inst);
    this.byId.set(inst.instanceId, inst);
    await this.bus.publish(
      createEvent('gw', 'nephele.instance.launch_succeeded', {
        ...base,
        state: 'pending' as const,
        addresses: [this.address],
      }),
    );
    if (!this.holdPending && !this.holdImages.has(d.image)) await this.setState(inst.instanceId, 'running');
  }

  private async onDestroy(d: InstanceActionData): Promise<void> {
    this.destroys.push(d);
    const inst = this.byId.get(d.instanceId);
    await this.bus.publish(
      createEvent('gw', 'nephele.instance.action_completed', {
        instanceId: d.instanceId,
        action: 'destroy' as const,
        ok: true,
        reason: inst ? 'destroyed' : 'already destroyed',
        owner: d.owner,
        state: 'terminated' as const,
      }),
    );
    if (inst) inst.state = 'terminated';
  }

  /** The tracker reports a state change of an instance. */
  async setState(instanceId: string, to: InstanceState): Promise<void> {
    const inst = this.byId.get(instanceId)!;
    const from = inst.state;
    inst.state = to;
    inst.version++;
    await this.bus.publish(
      createEvent('tracker', 'nephele.instance.state_changed', {
        instanceId,
        from,
        to,
        reason: `test: ${to}`,
        owner: inst.owner,
        addresses: [this.address],
        version: inst.version,
      }),
    );
  }

  async close(): Promise<void> {
    await this.bus?.close();
  }
}

export const TOKEN = 'scaler-int-admin-token-0123456789';
export const ALERTMANAGER_TOKEN = 'alertmanager-token-0123456789abcdef';
export const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** The scaler as an in-process Nest app on a random port. */
export async function startScaler(
  env: Record<string, string>,
): Promise<{ app: INestApplication; url: string; close(): Promise<void> }> {
  const app = await createHttpApp(
    ScalerAppModule.forRoot(
      loadScalerConfig({
        NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
        SCALER_CONVERGE_POLL_MS: '100',
        SCALER_CONVERGE_RETRY_MS: '200',
        SCALER_SCHEDULE_POLL_MS: '200',
        SCALER_WEBHOOK_ALLOW_PRIVATE: 'true',
        SCALER_WEBHOOK_RETRY_BASE_MS: '50',
        SCALER_ALERTMANAGER_TOKEN: ALERTMANAGER_TOKEN,
        ...env,
      }),
    ),
    { title: 'scaler test' },
  );
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}

/** JSON request helper: resolves with status, headers and the parsed body. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = auth,
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(url, {
    method,
    headers,
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

/** Runs the `nephele` CLI from source (tools/ts-run.js) against `url` as the admin. */
export function runCli(
  url: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = path.resolve(__dirname, '../../..');
  const child = spawn(
    process.execPath,
    [path.join(root, 'tools/ts-run.js'), path.join(root, 'apps/cli/src/main.ts'), ...args],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmpdir(),
        NEPHELE_URL: url,
        NEPHELE_TOKEN: TOKEN,
        NEPHELE_CONFIG: path.join(tmpdir(), 'nephele-scaler-int-none.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const r = { code: null as number | null, stdout: '', stderr: '' };
  child.stdout!.on('data', (b: Buffer) => (r.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (r.stderr += b.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      r.code = code;
      resolve(r);
    }),
  );
}
