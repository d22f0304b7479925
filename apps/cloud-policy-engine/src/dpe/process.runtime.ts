import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Bus, LoggerLike } from '@nephele/bus';
import { createEvent, DpeControl, Topology } from '@nephele/contracts';
import { DpeRuntime } from './runtime.types';

export interface ProcessRuntimeOptions {
  workerMain: string;
  env: Record<string, string | undefined>;
  dpePerWorker: number;
  /** A pool of this many workers sharing the DPEs (0: a new worker whenever the others are full). */
  workers?: number;
  bus: Bus;
  log: LoggerLike;
}

interface Worker {
  id: string;
  child: ChildProcess;
  deployables: Map<string, (reason: string) => void>;
  /** Settles when the worker's control queue is bound (it says so over IPC) or it exited. */
  ready: Promise<void>;
  /** One of its DPEs went silent: it gets no new DPE and is killed once it hosts none. */
  suspect: boolean;
}

/** How long a control message waits for a worker that never says it is ready (an older build). */
const READY_TIMEOUT_MS = 30_000;

// Note [DPE placement]
// DPEs as child processes (`node dist/apps/dpe-worker/main.js`). A worker hosts up to DPE_PER_WORKER
// DPEs: the first is given on its command line (DPE_ASSIGNMENTS), later ones through
// `nephele.dpe.control` commands, sent once the worker said (over IPC) that its control queue is bound.
// With DPE_WORKERS = k > 0 the runtime keeps a pool of k workers: while the pool is short a new DPE
// gets a new worker, then each new DPE goes to the least loaded live worker (ties by worker id), so
// k workers split the deployables evenly. A worker that exits takes its DPEs with it; one whose DPE
// went silent (a hung host) is marked suspect, gets no new DPE and is killed with SIGKILL once its
// DPEs are stopped. Either way the supervisor restarts those DPEs under a new epoch (Note [Fencing]),
// and they go to the surviving workers at once (least loaded first) rather than wait for a new
// process; the pool is refilled by the next new deployable. Running DPEs are never moved to rebalance
// (a move is a restart).

/** DPEs as child processes (Note [DPE placement]). */
export class ProcessRuntime implements DpeRuntime {
  readonly kind = 'process' as const;
  private readonly workers = new Map<string, Worker>();
  /** DPEs whose worker died or went silent: restarted on a live worker rather than a new one. */
  private readonly orphans = new Set<string>();

  constructor(private readonly o: ProcessRuntimeOptions) {}

  async start(
    deployableId: string,
    epoch: number,
    onExit: (reason: string) => void,
  ): Promise<{ workerId: string; pid?: number }> {
    const w = this.choose(deployableId);
    if (!w) return this.spawn(deployableId, epoch, onExit);
    w.deployables.set(deployableId, onExit);
    await w.ready;
    await this.control(w.id, deployableId, 'start', epoch);
    return { workerId: w.id, pid: w.child.pid };
  }

  /** The live worker a DPE goes to, or none (spawn one): Note [DPE placement]. */
  private choose(deployableId: string): Worker | undefined {
    const orphan = this.orphans.delete(deployableId);
    const live = [...this.workers.values()].filter(
      (w) => !w.suspect && w.child.exitCode === null && w.child.signalCode === null,
    );
    const poolShort = (this.o.workers ?? 0) > 0 && live.length < this.o.workers!;
    if (poolShort && !orphan) return undefined;
    return live
      .filter((w) => w.deployables.size < this.o.dpePerWorker)
      .sort((a, b) => a.deployables.size - b.deployables.size || a.id.localeCompare(b.id))[0];
  }

  private spawn(
    deployableId: string,
    epoch: number,
    onExit: (reason: string) => void,
  ): { workerId: string; pid?: number } {
    const main = path.resolve(this.o.workerMain);
    if (!existsSync(main))
      throw new Error(`the DPE worker is not built (${main}): run \`npx nx build dpe-worker\``);
    const id = `w-${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      env: {
        ...process.env,
        ...this.o.env,
        DPE_WORKER_ID: id,
        DPE_ASSIGNMENTS: `${deployableId}:${epoch}`,
        PORT: '0',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, READY_TIMEOUT_MS);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      child.on('message', (m: { ready?: boolean }) => m?.ready && done());
      child.once('exit', done);
    });
    // The IPC channel is only for "ready": it must not tie the worker's life to this process.
    child.channel?.unref();
    const w: Worker = { id, child, deployables: new Map([[deployableId, onExit]]), ready, suspect: false };
    this.workers.set(id, w);
    child.once('exit', (code, signal) => {
      this.workers.delete(id);
      const reason = signal ? `worker ${id} killed by ${signal}` : `worker ${id} exited with code ${code}`;
      for (const d of w.deployables.keys()) this.orphans.add(d);
      for (const cb of w.deployables.values()) cb(reason);
    });
    return { workerId: id, pid: child.pid };
  }

  /** A DPE of this worker went silent: no new DPE goes there (Note [DPE placement]). */
  suspect(workerId: string | null): void {
    const w = workerId ? this.workers.get(workerId) : undefined;
    if (!w || w.suspect) return;
    w.suspect = true;
    for (const d of w.deployables.keys()) this.orphans.add(d);
    this.o.log.warn({ workerId, dpes: w.deployables.size }, 'DPE worker silent: its DPEs move');
  }

  async stop(deployableId: string, workerId: string | null, pid: number | null): Promise<void> {
    const w = workerId ? this.workers.get(workerId) : undefined;
    if (w) {
      w.deployables.delete(deployableId);
      if (w.deployables.size === 0) await this.kill(w.child, w.suspect ? 'SIGKILL' : 'SIGTERM');
      else await this.control(w.id, deployableId, 'stop', 0);
      return;
    }
    // A worker started by another CPE replica (we took over): stop it by pid.
    if (pid) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }

  private control(workerId: string, deployableId: string, action: 'start' | 'stop', epoch: number) {
    return this.o.bus.publish(
      createEvent('cloud-policy-engine', DpeControl.type, { workerId, deployableId, action, epoch }),
      { exchange: Topology.commands },
    );
  }

  private kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill(signal);
    });
  }

  async close(): Promise<void> {
    // Workers keep running across a CPE restart: the next leader adopts them by their heartbeats.
    for (const w of this.workers.values()) {
      w.child.removeAllListeners('exit');
      w.child.disconnect?.();
    }
    this.workers.clear();
  }
}
