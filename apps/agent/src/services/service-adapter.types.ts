import { ServiceSpec, ServiceState } from '@nephele/contracts';

/** What one action on a service found. */
export interface ActionResult {
  state: ServiceState;
  reason: string;
  exitCode?: number;
}

/** Runs one class of service (process, systemd, lsb, ocf). Never throws: failures are results. */
export interface ServiceAdapter {
  start(spec: ServiceSpec): Promise<ActionResult>;
  stop(spec: ServiceSpec): Promise<ActionResult>;
  monitor(spec: ServiceSpec): Promise<ActionResult>;
}

export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/** Pacemaker's default op timeout: a start (checks included) gets at least this long by default. */
export const DEFAULT_START_TIMEOUT_MS = 20_000;

/** How long a start may take: its own timeout, else max(20 s, the monitor's): start is not monitor. */
export const startTimeoutMs = (spec: ServiceSpec): number =>
  spec.startTimeoutMs ?? Math.max(spec.monitor.timeoutMs, DEFAULT_START_TIMEOUT_MS);

/** How long a scripted stop may take: its own timeout, else at least the default. */
export const stopTimeoutMs = (spec: ServiceSpec): number =>
  spec.stopTimeoutMs ?? Math.max(spec.monitor.timeoutMs, DEFAULT_STOP_TIMEOUT_MS);

/** An adapter whose every action is one run of a program (LSB init scripts, OCF agents, systemctl). */
export abstract class ScriptAdapter implements ServiceAdapter {
  /** Runs the program for `kind` (`monitor` is the script's own status action) within `timeoutMs`. */
  protected abstract act(
    kind: 'start' | 'stop' | 'monitor',
    spec: ServiceSpec,
    timeoutMs: number,
  ): Promise<ActionResult>;

  start(spec: ServiceSpec): Promise<ActionResult> {
    return this.act('start', spec, startTimeoutMs(spec));
  }

  stop(spec: ServiceSpec): Promise<ActionResult> {
    return this.act('stop', spec, stopTimeoutMs(spec));
  }

  monitor(spec: ServiceSpec): Promise<ActionResult> {
    return this.act('monitor', spec, spec.monitor.timeoutMs);
  }
}
