import { DpeRuntime } from './runtime.types';

/** What the all-in-one hands the CPE: its in-process DPE host (apps/dpe-worker's DpeHost). */
export interface DpeInlineHost {
  run(deployableId: string, epoch: number): Promise<unknown>;
  stopDpe(deployableId: string): Promise<void>;
}

/** DPEs inside this process (all-in-one): no workers to lose, heartbeats still watched. */
export class InlineRuntime implements DpeRuntime {
  readonly kind = 'inline' as const;
  constructor(private readonly host: DpeInlineHost) {}

  async start(deployableId: string, epoch: number): Promise<{ workerId: string; pid: number }> {
    void this.host.run(deployableId, epoch).catch(() => undefined);
    return { workerId: 'inline', pid: process.pid };
  }

  async stop(deployableId: string): Promise<void> {
    await this.host.stopDpe(deployableId);
  }

  async close(): Promise<void> {}
}
