import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { waitFor } from './wait';

export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

/** A free TCP port on 127.0.0.1. */
// Note [Test ports]
// A port for a service a test starts is probed free, then handed to the child, which listens on it
// later. `listen(0)` takes it from the kernel's ephemeral range (32768–60999 here), the same range
// every outbound connection's local port comes from: with two E2E lanes opening connections,
// another socket took a probed port before the child bound it (seen in CI: EADDRINUSE on the
// all-in-one's PORT). So ports come from 20000–32767 instead — below that range, where no
// outbound connection lands — at random, and each is probed on every address before it is given.
const TEST_PORTS = { from: 20_000, to: 32_767 };

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** A TCP port free on every address, outside the ephemeral range (Note [Test ports]). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from + 1));
    if (await probe(port)) return port;
  }
  throw new Error(`no free port in ${TEST_PORTS.from}–${TEST_PORTS.to} after 200 tries`);
}

/**
 * A Nephele service running as its own process (`node dist/apps/<app>/main.js`), for E2E tests.
 * Its output is kept so a test can check what it logged.
 */
export class ServiceProcess {
  child?: ChildProcess;
  output = '';
  readonly port: number;
  private exited?: Promise<number | null>;

  constructor(
    readonly app: string,
    readonly env: Record<string, string>,
    port: number,
  ) {
    this.port = port;
  }

  static async start(
    app: string,
    env: Record<string, string>,
    opts: { waitReady?: boolean; readyTimeoutMs?: number } = {},
  ): Promise<ServiceProcess> {
    const p = new ServiceProcess(app, env, env.PORT ? Number(env.PORT) : await freePort());
    await p.start(opts);
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the app and waits for /readyz (or /healthz), 30 s unless `readyTimeoutMs` says otherwise. */
  async start(opts: { waitReady?: boolean; readyTimeoutMs?: number } = {}): Promise<void> {
    const main = path.join(WORKSPACE_ROOT, 'dist/apps', this.app, 'main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npx nx build ${this.app}\` first`);
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const append = (b: Buffer) => {
      this.output += b.toString();
      if (this.output.length > 5_000_000) this.output = this.output.slice(-2_500_000);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${this.app} exited with ${child.exitCode}:\n${this.output.slice(-3000)}`);
        const r = await fetch(`${this.url}/${opts.waitReady === false ? 'healthz' : 'readyz'}`).catch(
          () => undefined,
        );
        return r?.ok;
      },
      { timeoutMs: opts.readyTimeoutMs ?? 30_000, what: `${this.app} to be ready` },
    ).catch(async (e: Error) => {
      // A process that did not become ready is not left running: the caller never gets a handle
      // to stop it, and a live child keeps the test runner from exiting.
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await this.exited;
      }
      throw new Error(`${e.message}\n--- ${this.app} output ---\n${this.output.slice(-4000)}`);
    });
  }

  /** Sends a signal (SIGKILL simulates a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited!;
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.start();
  }
}

const built = new Set<string>();
/** Builds apps for an E2E test (`node tools/build.mjs <app>`), once per test process. */
export function buildApps(...apps: string[]): void {
  // `npm test` builds every app once before the E2E tier and runs E2E projects side by side: a
  // file rebuilding dist/apps/<app> then could rewrite it under another file's starting process.
  if (process.env.NEPHELE_E2E_PREBUILT === '1') return;
  for (const app of apps) {
    if (built.has(app)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    execFileSync(process.execPath, ['tools/build.mjs', app], { cwd: WORKSPACE_ROOT, stdio: 'pipe' });
    built.add(app);
  }
}
