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
  bus: Bus;
  log: LoggerLike;
}

interface Worker {
  id: string;
  child: ChildProcess;
  deployables: Map<string, (reason: string) => void>;
}

/**
 * DPEs as child processes (`node dist/apps/dpe-worker/main.js`). With DPE_PER_WORKER > 1 a worker
 * hosts several DPEs: the first is given on the command line (DPE_ASSIGNMENTS), later ones through
 * `nephele.dpe.control` commands. A worker that exits takes all its DPEs with it.
 */
export class ProcessRuntime implements DpeRuntime {
  readonly kind = 'process' as const;
  private readonly workers = new Map<string, Worker>();

  constructor(private readonly o: ProcessRuntimeOptions) {}

  async start(
    deployableId: string,
    epoch: number,
    onExit: (reason: string) => void,
  ): Promise<{ workerId: string; pid?: number }> {
    const spare = [...this.workers.values()].find(
      (w) => w.deployables.size < this.o.dpePerWorker && w.child.exitCode === null,
    );
    if (spare && this.o.dpePerWorker > 1) {
      spare.deployables.set(deployableId, onExit);
      await this.o.bus.publish(
        createEvent('cloud-policy-engine', DpeControl.type, {
          workerId: spare.id,
          deployableId,
          action: 'start' as const,
          epoch,
        }),
        {
          exchange: Topology.commands,
        },
      );
      return { workerId: spare.id, pid: spare.child.pid };
    }
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
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const w: Worker = { id, child, deployables: new Map([[deployableId, onExit]]) };
    this.workers.set(id, w);
    child.once('exit', (code, signal) => {
      this.workers.delete(id);
      const reason = signal ? `worker ${id} killed by ${signal}` : `worker ${id} exited with code ${code}`;
      for (const cb of w.deployables.values()) cb(reason);
    });
    return { workerId: id, pid: child.pid };
  }

  async stop(deployableId: string, workerId: string | null, pid: number | null): Promise<void> {
    const w = workerId ? this.workers.get(workerId) : undefined;
    if (w) {
      w.deployables.delete(deployableId);
      if (w.deployables.size === 0) {
        await this.kill(w.child);
      } else {
        await this.o.bus.publish(
          createEvent('cloud-policy-engine', DpeControl.type, {
            workerId: w.id,
            deployableId,
            action: 'stop' as const,
            epoch: 0,
          }),
          {
            exchange: Topology.commands,
          },
        );
      }
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

  private kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    // Workers keep running across a CPE restart: the next leader adopts them by their heartbeats.
    for (const w of this.workers.values()) w.child.removeAllListeners('exit');
    this.workers.clear();
  }
}
