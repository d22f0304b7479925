import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServiceSpec } from '@nephele/contracts';
import { httpProbe, tcpProbe } from './probes.util';
import {
  ActionResult,
  DEFAULT_STOP_TIMEOUT_MS,
  ServiceAdapter,
  startTimeoutMs,
} from './service-adapter.types';

type Running = {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat), against pid reuse. */
  startTicks?: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  exited: Promise<void>;
  stopping: boolean;
};

/** Called when a process exits without being asked to stop. */
export type UnexpectedExit = (service: string, result: ActionResult) => void;

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'exited (status unknown)' : `exited with code ${exit.code}`;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* the group is gone */
  }
}

const CHECK_PAUSE_MS = 200;
/** How often an adopted process (no exit event: it is not our child) is checked for its exit. */
const ADOPTED_POLL_MS = 500;
const STATE_FILE = 'process-services.json';

/**
 * Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces); undefined
 * for a process that is gone or a zombie (exited, not yet reaped).
 */
function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

// Note [Process services]
// A `process` service is spawned detached, so it leads its own process group: stop signals the
// whole group (SIGTERM, then SIGKILL after stopTimeoutMs), so a shell and what it started go
// together. Its exit is seen at once through the child's exit event, without waiting for the next
// monitor: an exit nobody asked for is reported as a failure immediately. The agent never restarts
// it by itself (recovery is the DPE's decision). A monitor checks the process is alive and, when
// the spec asks, that a TCP port accepts connections or a URL answers; start waits (up to
// startTimeoutMs) for those checks to pass before it reports running.
//
// With a state directory, the running services (pid and start time) are written to
// process-services.json, so an agent that crashed and came back adopts the processes it had
// started instead of starting them twice: `adopt()` takes every recorded pid that is still alive
// with the same start time (a reused pid is not adopted). An adopted process is not this agent's
// child, so its exit is found by polling and its exit status is unknown.
export class ProcessAdapter implements ServiceAdapter {
  private readonly procs = new Map<string, Running>();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly onUnexpectedExit: UnexpectedExit,
    private readonly stateDir?: string,
  ) {}

  /** Adopts the processes a previous run of this agent started (see Note [Process services]). */
  async adopt(): Promise<string[]> {
    if (!this.stateDir) return [];
    let recorded: Record<string, { pid: number; startTicks: string }> = {};
    try {
      recorded = JSON.parse(await readFile(path.join(this.stateDir, STATE_FILE), 'utf8')) as typeof recorded;
    } catch {
      return [];
    }
    const adopted: string[] = [];
    for (const [name, r] of Object.entries(recorded ?? {})) {
      if (this.procs.has(name) || !Number.isInteger(r?.pid) || r.pid <= 1) continue;
      if (startTicksOf(r.pid) !== r.startTicks) continue; // gone, or the pid now names another process
      this.procs.set(name, this.adoptedEntry(name, r.pid, r.startTicks));
      adopted.push(name);
    }
    this.save();
    return adopted;
  }

  private adoptedEntry(name: string, pid: number, startTicks: string): Running {
    let resolveExit!: () => void;
    const entry: Running = {
      pid,
      startTicks,
      stopping: false,
      exited: new Promise<void>((r) => (resolveExit = r)),
    };
    const timer = setInterval(() => {
      if (startTicksOf(pid) === startTicks) return;
      clearInterval(timer);
      entry.exit = { code: null, signal: null };
      resolveExit();
      if (!entry.stopping && this.procs.get(name) === entry) {
        this.procs.delete(name);
        this.save();
        this.onUnexpectedExit(name, {
          state: 'failed',
          reason: 'process exited (adopted after an agent restart; status unknown)',
        });
      }
    }, ADOPTED_POLL_MS);
    timer.unref();
    return entry;
  }

  /** Writes the running services' pids (atomically, one write at a time). */
  private save(): void {
    const dir = this.stateDir;
    if (!dir) return;
    const snapshot = Object.fromEntries(
      [...this.procs]
        .filter(([, e]) => !e.exit && e.startTicks)
        .map(([n, e]) => [n, { pid: e.pid, startTicks: e.startTicks }]),
    );
    this.saving = this.saving.then(async () => {
      try {
        await mkdir(dir, { recursive: true });
        const file = path.join(dir, STATE_FILE);
        await writeFile(`${file}.tmp`, JSON.stringify(snapshot));
        await rename(`${file}.tmp`, file);
      } catch {
        /* best effort: without the file a restarted agent adopts nothing */
      }
    });
  }

  /** Resolves when the last state write is on disk (tests, shutdown). */
  flushed(): Promise<void> {
    return this.saving;
  }

  /** The pid of a running service (its process group id), for tests and diagnostics. */
  pidOf(service: string): number | undefined {
    const p = this.procs.get(service);
    return p && !p.exit ? p.pid : undefined;
  }

  async start(spec: ServiceSpec): Promise<ActionResult> {
    const existing = this.procs.get(spec.name);
    if (existing && !existing.exit) {
      const check = await this.checks(spec, existing);
      return check ? { state: 'failed', reason: check } : { state: 'running', reason: 'already running' };
    }
    const [file, args] = spec.args ? [spec.command!, spec.args] : ['/bin/sh', ['-c', spec.command!]];
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, ...(spec.parameters ?? {}) },
      });
    } catch (e) {
      return { state: 'failed', reason: `cannot start: ${(e as Error).message}` };
    }
    const spawned = await new Promise<string | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e.message));
    });
    if (spawned !== undefined || !child.pid) return { state: 'failed', reason: `cannot start: ${spawned}` };
    const entry: Running = {
      pid: child.pid,
      stopping: false,
      exited: new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          entry.exit = { code, signal };
          resolve();
          this.save();
          if (!entry.stopping && this.procs.get(spec.name) === entry) {
            this.onUnexpectedExit(spec.name, {
              state: 'failed',
              reason: `process ${describeExit(entry.exit)}`,
              exitCode: code ?? undefined,
            });
          }
        }),
      ),
    };
    child.on('error', () => undefined);
    entry.startTicks = startTicksOf(entry.pid);
    this.procs.set(spec.name, entry);
    this.save();
    if (!spec.monitor.tcp && !spec.monitor.http)
      return { state: 'running', reason: `started (pid ${entry.pid})` };
    const deadline = Date.now() + startTimeoutMs(spec);
    for (;;) {
      if (entry.exit) return this.exitResult(entry);
      const why = await this.checks(spec, entry);
      if (!why) return { state: 'running', reason: `started (pid ${entry.pid}); checks pass` };
      if (Date.now() >= deadline) return { state: 'failed', reason: `started but checks fail: ${why}` };
      await new Promise((r) => setTimeout(r, CHECK_PAUSE_MS));
    }
  }

  private exitResult(entry: Running): ActionResult {
    return {
      state: 'failed',
      reason: `process ${describeExit(entry.exit!)}`,
      exitCode: entry.exit!.code ?? undefined,
    };
  }

  private async checks(spec: ServiceSpec, entry: Running): Promise<string | undefined> {
    if (entry.exit) return `process ${describeExit(entry.exit)}`;
    try {
      process.kill(entry.pid, 0);
    } catch {
      return 'process is gone';
    }
    if (spec.monitor.tcp) {
      const why = await tcpProbe(spec.monitor.tcp, spec.monitor.timeoutMs);
      if (why) return why;
    }
    if (spec.monitor.http) {
      const why = await httpProbe(spec.monitor.http, spec.monitor.timeoutMs);
      if (why) return why;
    }
    return undefined;
  }

  async stop(spec: ServiceSpec): Promise<ActionResult> {
    const entry = this.procs.get(spec.name);
    if (!entry) return { state: 'stopped', reason: 'not running' };
    entry.stopping = true;
    if (entry.exit) {
      this.procs.delete(spec.name);
      this.save();
      return { state: 'stopped', reason: `not running (${describeExit(entry.exit)})` };
    }
    const timeoutMs = spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    killGroup(entry.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      entry.exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!gone) {
      killGroup(entry.pid, 'SIGKILL');
      await entry.exited;
    } else {
      // The leader is gone; anything left in its group gets no second chance.
      killGroup(entry.pid, 'SIGKILL');
    }
    this.procs.delete(spec.name);
    this.save();
    return {
      state: 'stopped',
      reason: gone ? `stopped (${describeExit(entry.exit!)})` : `did not stop within ${timeoutMs} ms; killed`,
    };
  }

  async monitor(spec: ServiceSpec): Promise<ActionResult> {
    const entry = this.procs.get(spec.name);
    if (!entry) return { state: 'stopped', reason: 'not running' };
    if (entry.exit) return this.exitResult(entry);
    const why = await this.checks(spec, entry);
    return why ? { state: 'failed', reason: why } : { state: 'running', reason: 'alive; checks pass' };
  }

  /** Stops every process service (the agent is shutting down). */
  async stopAll(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    await Promise.all(
      [...this.procs.keys()].map((name) =>
        this.stop({
          name,
          class: 'process',
          monitor: { intervalMs: 0, timeoutMs },
          stopTimeoutMs: timeoutMs,
        }),
      ),
    );
  }
}
