import path from 'node:path';
import { ServiceSpec } from '@nephele/contracts';
import { runAction, scriptResult } from './run-action.util';
import { ActionResult, ScriptAdapter } from './service-adapter.types';

/** LSB init-script `status` exit codes (LSB 3.0 core, 20.2). */
export const LSB_STATUS_CODES: Record<number, string> = {
  0: 'program is running or service is OK',
  1: 'program is dead and /var/run pid file exists',
  2: 'program is dead and /var/lock lock file exists',
  3: 'program is not running',
  4: 'program or service status is unknown',
};

export type LsbAction = 'start' | 'stop' | 'status';

/** What an init script's exit code means: status 0 running, 3 stopped, anything else failed. */
export function lsbResult(action: LsbAction, code: number): ActionResult {
  switch (action) {
    case 'status': {
      const reason = `status: ${LSB_STATUS_CODES[code] ?? 'unknown status'} (${code})`;
      if (code === 0) return { state: 'running', reason, exitCode: code };
      if (code === 3) return { state: 'stopped', reason, exitCode: code };
      return { state: 'failed', reason, exitCode: code };
    }
    case 'start':
      return code === 0
        ? { state: 'running', reason: 'start: ok (0)', exitCode: 0 }
        : { state: 'failed', reason: `start: failed (${code})`, exitCode: code };
    case 'stop':
      return code === 0
        ? { state: 'stopped', reason: 'stop: ok (0)', exitCode: 0 }
        : { state: 'failed', reason: `stop: failed (${code})`, exitCode: code };
  }
}

/** `lsb` class: init scripts `<dir>/<type> start|stop|status`. */
export class LsbAdapter extends ScriptAdapter {
  constructor(private readonly dir: string) {
    super();
  }

  scriptPath(spec: ServiceSpec): string {
    return path.join(this.dir, spec.type ?? '');
  }

  protected async act(
    kind: 'start' | 'stop' | 'monitor',
    spec: ServiceSpec,
    timeoutMs: number,
  ): Promise<ActionResult> {
    const action: LsbAction = kind === 'monitor' ? 'status' : kind;
    const run = await runAction(this.scriptPath(spec), [action], { timeoutMs });
    return scriptResult(run, `LSB ${spec.type} ${action}`, timeoutMs, (code) => lsbResult(action, code));
  }
}
