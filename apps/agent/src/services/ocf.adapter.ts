import path from 'node:path';
import { ServiceSpec } from '@nephele/contracts';
import { runAction, scriptResult } from './run-action.util';
import { ActionResult, ScriptAdapter } from './service-adapter.types';

/** OCF resource agent exit codes (OCF Resource Agent API 1.1). */
export const OCF_CODES: Record<number, string> = {
  0: 'OCF_SUCCESS',
  1: 'OCF_ERR_GENERIC',
  2: 'OCF_ERR_ARGS',
  3: 'OCF_ERR_UNIMPLEMENTED',
  4: 'OCF_ERR_PERM',
  5: 'OCF_ERR_INSTALLED',
  6: 'OCF_ERR_CONFIGURED',
  7: 'OCF_NOT_RUNNING',
  8: 'OCF_RUNNING_PROMOTED',
  9: 'OCF_FAILED_PROMOTED',
};

export type OcfAction = 'start' | 'stop' | 'monitor';

/** What an OCF exit code means for each action. */
export function ocfResult(action: OcfAction, code: number): ActionResult {
  const name = OCF_CODES[code] ?? `unknown OCF exit code`;
  const reason = `${action}: ${name} (${code})`;
  switch (action) {
    case 'monitor':
      if (code === 0 || code === 8) return { state: 'running', reason, exitCode: code };
      if (code === 7) return { state: 'stopped', reason, exitCode: code };
      return { state: 'failed', reason, exitCode: code };
    case 'start':
      return { state: code === 0 || code === 8 ? 'running' : 'failed', reason, exitCode: code };
    case 'stop':
      // A stop must succeed on a stopped resource; some agents answer NOT_RUNNING instead.
      return { state: code === 0 || code === 7 ? 'stopped' : 'failed', reason, exitCode: code };
  }
}

/** OCF_RESOURCE_INSTANCE must be a plain token. */
function instanceName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** The environment of one OCF action: OCF_ROOT, OCF_RESKEY_<param>, the instance and meta timeout. */
export function ocfEnvironment(spec: ServiceSpec, ocfRoot: string, timeoutMs: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    OCF_ROOT: ocfRoot,
    OCF_FUNCTIONS_DIR: path.join(ocfRoot, 'lib', 'heartbeat'),
    OCF_RESOURCE_INSTANCE: instanceName(spec.name),
    OCF_RESOURCE_TYPE: spec.type,
    OCF_RESOURCE_PROVIDER: spec.provider,
    OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
  };
  for (const [k, v] of Object.entries(spec.parameters ?? {})) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

/** `ocf` class: real OCF resource agents under <OCF_ROOT>/resource.d/<provider>/<type>. */
export class OcfAdapter extends ScriptAdapter {
  constructor(private readonly ocfRoot: string) {
    super();
  }

  agentPath(spec: ServiceSpec): string {
    // provider and type are validated against RESOURCE_NAME (no separators, no `..`).
    return path.join(this.ocfRoot, 'resource.d', spec.provider ?? '', spec.type ?? '');
  }

  protected async act(action: OcfAction, spec: ServiceSpec, timeoutMs: number): Promise<ActionResult> {
    const run = await runAction(this.agentPath(spec), [action], {
      env: ocfEnvironment(spec, this.ocfRoot, timeoutMs),
      timeoutMs,
    });
    const what = `OCF ${spec.provider}:${spec.type} ${action}`;
    return scriptResult(run, what, timeoutMs, (code) => ocfResult(action, code));
  }
}
