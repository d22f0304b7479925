import { AgentAction, ServiceFailureCause } from '@nephele/contracts';
import { ActionResult } from './service-adapter.types';

/**
 * Why an action failed, from what the adapter found (OCF/LSB exit codes, spawn errors, check
 * results), so that the DPE can tell a missing binary (retrying cannot help) from a slow start.
 */
export function failureCause(action: AgentAction, r: ActionResult): ServiceFailureCause | undefined {
  if (r.state !== 'failed') return undefined;
  const why = r.reason;
  if (/checks fail/.test(why)) return 'check-failed';
  // A shell's "command not found", and LSB's "program is not installed" for start.
  if (r.exitCode === 127 || (action === 'start' && r.exitCode === 5 && /LSB|init/i.test(why)))
    return 'not-installed';
  if (/OCF_ERR_INSTALLED|ENOENT|not installed|No such file|not-found|could not be found|not found/i.test(why))
    return 'not-installed';
  if (/OCF_ERR_CONFIGURED|OCF_ERR_ARGS|OCF_ERR_PERM|EACCES|Permission denied/i.test(why))
    return 'not-configured';
  if (/timed out/.test(why)) return action === 'start' ? 'start-timeout' : 'error';
  if (/^(not running: )?process (exited|killed)/.test(why)) return 'exited';
  if (action === 'monitor') return 'monitor-failed';
  return 'error';
}
