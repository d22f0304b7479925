/** Where a DPE runs (ARCHITECTURE §5: worker runtimes). */
export interface DpeRuntime {
  readonly kind: 'process' | 'kubernetes' | 'inline';
  /**
   * Starts the DPE of a deployable under an epoch. Returns where it runs. `onExit` is called if the
   * runtime notices the worker ended (a process exit, a pod that failed).
   */
  start(
    deployableId: string,
    epoch: number,
    onExit: (reason: string) => void,
  ): Promise<{ workerId: string; pid?: number }>;
  /** Stops one DPE (the worker too, when it hosts nothing else). */
  stop(deployableId: string, workerId: string | null, pid: number | null): Promise<void>;
  /** A DPE of this worker went silent: place no new DPE there (process runtime). */
  suspect?(workerId: string | null): void;
  close(): Promise<void>;
}
