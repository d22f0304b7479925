import { spawn } from 'node:child_process';
import type { ActionResult } from './service-adapter.types';

export interface ActionRun {
  /** The exit code; undefined when the program could not start, timed out or died of a signal. */
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  /** Why it could not start (ENOENT, EACCES…). */
  error?: string;
  /** The last few KiB of stdout+stderr, for reasons. */
  output: string;
}

const KEEP = 4096;

/**
 * Runs a program (an init script, a resource agent, systemctl) in its own process group and waits
 * for it, killing the whole group at the timeout. Never throws.
 */
export function runAction(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ActionRun> {
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<ActionRun, 'output' | 'timedOut'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, timedOut, output: output.trim() });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, {
        env: opts.env ?? process.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      resolve({ timedOut: false, error: (e as Error).message, output: '' });
      return;
    }
    const append = (b: Buffer) => {
      output = (output + b.toString('utf8')).slice(-KEEP);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, opts.timeoutMs);
    child.once('error', (e) => finish({ error: e.message }));
    child.once('close', (code, signal) =>
      finish({ exitCode: code === null ? undefined : code, signal: signal ?? undefined }),
    );
  });
}

/** A short human reason for a run that did not exit normally. */
export function abnormal(run: ActionRun, what: string, timeoutMs: number): string | undefined {
  if (run.error) return `${what} could not run: ${run.error}`;
  if (run.timedOut) return `${what} timed out after ${timeoutMs} ms`;
  if (run.exitCode === undefined) return `${what} was killed by ${run.signal ?? 'a signal'}`;
  return undefined;
}

/**
 * What a script's run means: its abnormal end, else `interpret(exit code)`; a failure carries the
 * tail of the script's output.
 */
export function scriptResult(
  run: ActionRun,
  what: string,
  timeoutMs: number,
  interpret: (code: number) => ActionResult,
): ActionResult {
  const why = abnormal(run, what, timeoutMs);
  if (why) return { state: 'failed', reason: why };
  const r = interpret(run.exitCode!);
  if (r.state === 'failed' && run.output) r.reason = `${r.reason}: ${run.output.slice(-500)}`;
  return r;
}
