import { ServiceSpec } from '@nephele/contracts';
import { abnormal, ActionRun, runAction } from './run-action.util';
import { ActionResult, ScriptAdapter } from './service-adapter.types';

export type SystemdAction = 'start' | 'stop' | 'monitor';

/** The unit a spec names: `type`, else the service name. */
export function unitOf(spec: ServiceSpec): string {
  return spec.type ?? spec.name;
}

/** The systemctl command line of an action. */
export function systemctlArgs(action: SystemdAction, unit: string): string[] {
  switch (action) {
    case 'start':
      return ['start', unit];
    case 'stop':
      return ['stop', unit];
    case 'monitor':
      return ['is-active', unit];
  }
}

/**
 * What systemctl said. `is-active` prints the unit's active state and exits 0 only when active:
 * active/reloading/activating → running, inactive/deactivating → stopped, failed (or anything
 * else) → failed. start/stop: exit 0 → running/stopped, else failed.
 */
export function systemdResult(
  action: SystemdAction,
  run: Pick<ActionRun, 'exitCode' | 'output'>,
): ActionResult {
  const code = run.exitCode ?? -1;
  if (action === 'monitor') {
    const word = run.output.trim().split(/\s+/).pop() ?? '';
    const reason = `is-active: ${word || 'no answer'} (${code})`;
    if (code === 0 || word === 'active' || word === 'reloading' || word === 'activating') {
      return { state: 'running', reason, exitCode: code };
    }
    if (word === 'inactive' || word === 'deactivating') return { state: 'stopped', reason, exitCode: code };
    return { state: 'failed', reason, exitCode: code };
  }
  if (code === 0)
    return { state: action === 'start' ? 'running' : 'stopped', reason: `${action}: ok (0)`, exitCode: 0 };
  return {
    state: 'failed',
    reason: `${action}: failed (${code})${run.output ? `: ${run.output.slice(-500)}` : ''}`,
    exitCode: code,
  };
}

/** `systemd` class: `systemctl start|stop|is-active <unit>`. */
export class SystemdAdapter extends ScriptAdapter {
  constructor(private readonly systemctl = 'systemctl') {
    super();
  }

  protected async act(action: SystemdAction, spec: ServiceSpec, timeoutMs: number): Promise<ActionResult> {
    const run = await runAction(this.systemctl, systemctlArgs(action, unitOf(spec)), { timeoutMs });
    const why = abnormal(run, `systemctl ${action} ${unitOf(spec)}`, timeoutMs);
    if (why) return { state: 'failed', reason: why };
    return systemdResult(action, run);
  }
}
