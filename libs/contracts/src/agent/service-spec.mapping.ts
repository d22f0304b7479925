import type { ServiceDoc } from '../events/cpe.events';
import { ServiceSpec } from './agent.messages';

/** Pacemaker's default op timeout: a start gets at least this long (checks included). */
export const MIN_START_TIMEOUT_MS = 20_000;

/**
 * What the agent needs to run a service, with `{ref: {assembly, parameter}}` parameters resolved
 * (`address` → the referenced assembly's first address, `name` → its instance name). Returns the
 * names of unresolved references instead when a referenced assembly is not up yet.
 */
export function toAgentServiceSpec(
  svc: ServiceDoc,
  resolve: (assembly: string, parameter: string) => string | undefined,
): { spec: ServiceSpec } | { unresolved: string[] } {
  const parameters: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [k, v] of Object.entries(svc.parameters)) {
    if (typeof v === 'string') parameters[k] = v;
    else {
      const r = resolve(v.ref.assembly, v.ref.parameter);
      if (r === undefined) unresolved.push(`${k} → ${v.ref.assembly}.${v.ref.parameter}`);
      else parameters[k] = r;
    }
  }
  if (unresolved.length) return { unresolved };
  const spec: ServiceSpec = {
    name: svc.name,
    class: svc.class,
    parameters,
    monitor: {
      intervalMs: svc.monitor.intervalMs,
      timeoutMs: svc.monitor.timeoutMs,
      ...(svc.monitor.tcp ? { tcp: { port: svc.monitor.tcp.port, host: svc.monitor.tcp.host } } : {}),
      ...(svc.monitor.http
        ? { http: { url: `http://127.0.0.1:${svc.monitor.http.port}${svc.monitor.http.path}` } }
        : {}),
    },
    // Start is not monitor: a start gets Pacemaker's default op timeout at least.
    startTimeoutMs: svc.startTimeoutMs ?? Math.max(MIN_START_TIMEOUT_MS, svc.monitor.timeoutMs),
    ...(svc.stopTimeoutMs ? { stopTimeoutMs: svc.stopTimeoutMs } : {}),
  };
  if (svc.class === 'process' && svc.command?.length) {
    spec.command = svc.command[0]!;
    spec.args = svc.command.slice(1);
  }
  if (svc.provider) spec.provider = svc.provider;
  if (svc.type) spec.type = svc.type;
  return { spec };
}
