import { AgentAction, ServiceClass, ServiceSpec, ServiceState } from '@nephele/contracts';
import { ActionResult, ServiceAdapter } from '../services/service-adapter.types';

/** A change a recurring monitor (or an unexpected exit) found. */
export interface MonitorReport extends ActionResult {
  service: string;
}

type Desired = 'running' | 'stopped' | 'unknown';

type ServiceRecord = {
  spec: ServiceSpec;
  state: ServiceState;
  reason: string;
  desired: Desired;
  timer?: NodeJS.Timeout;
  /** Actions on one service run one after another. */
  chain: Promise<unknown>;
};

// Note [Supervisor]
// One record per service the agent has been told about: its latest spec, observed state, and
// what the DPE last asked for. Every action on a service (commands and monitor ticks) is chained,
// so a monitor never races a start or stop. While a service should run, a recurring monitor runs
// every monitor.intervalMs; when the observed state changes the change is reported at once. A
// service that should run but is found stopped is a failure (OCF_NOT_RUNNING after a start means
// it died). The supervisor never restarts anything itself: recovery is the DPE's decision.
export class ServiceSupervisor {
  private readonly services = new Map<string, ServiceRecord>();
  private closed = false;
  private listener: (r: MonitorReport) => void = () => undefined;

  constructor(private readonly adapters: Record<ServiceClass, ServiceAdapter>) {}

  /** Where monitor findings go (the agent sends them at once). */
  onReport(listener: (r: MonitorReport) => void): void {
    this.listener = listener;
  }

  /** The state of every known service (what heartbeats carry). */
  states(): Record<string, ServiceState> {
    return Object.fromEntries([...this.services].map(([name, r]) => [name, r.state]));
  }

  /** Runs a command's action on a service; resolves with what it found. */
  run(action: AgentAction, spec: ServiceSpec): Promise<ActionResult> {
    const rec = this.record(spec);
    return this.enqueue(rec, async () => {
      rec.spec = spec;
      let result: ActionResult;
      switch (action) {
        case 'start':
          rec.desired = 'running';
          result = await this.adapter(spec).start(spec);
          break;
        case 'stop':
          rec.desired = 'stopped';
          this.unschedule(rec);
          result = await this.adapter(spec).stop(spec);
          break;
        case 'monitor':
          result = await this.adapter(spec).monitor(spec);
          // A probe that finds the service running adopts it (e.g. after an agent restart).
          if (result.state === 'running') rec.desired = 'running';
          break;
        case 'configure': {
          const probe = await this.adapter(spec).monitor(spec);
          result = { ...probe, reason: `configured; ${probe.reason}` };
          break;
        }
      }
      rec.state = result.state;
      rec.reason = result.reason;
      this.schedule(rec);
      return result;
    });
  }

  /** A process exited by itself: record it and report at once. */
  exited(service: string, result: ActionResult): void {
    const rec = this.services.get(service);
    if (!rec || rec.desired !== 'running') return;
    void this.enqueue(rec, async () => this.observe(rec, result));
  }

  private adapter(spec: ServiceSpec): ServiceAdapter {
    return this.adapters[spec.class];
  }

  private record(spec: ServiceSpec): ServiceRecord {
    let rec = this.services.get(spec.name);
    if (!rec) {
      rec = { spec, state: 'stopped', reason: 'not started', desired: 'unknown', chain: Promise.resolve() };
      this.services.set(spec.name, rec);
    }
    return rec;
  }

  private enqueue<T>(rec: ServiceRecord, fn: () => Promise<T>): Promise<T> {
    const next = rec.chain.then(fn, fn);
    rec.chain = next.catch(() => undefined);
    return next;
  }

  private observe(rec: ServiceRecord, found: ActionResult): void {
    let result = found;
    if (rec.desired === 'running' && found.state === 'stopped') {
      result = { ...found, state: 'failed', reason: `not running: ${found.reason}` };
    }
    if (result.state === rec.state) return;
    rec.state = result.state;
    rec.reason = result.reason;
    if (!this.closed) this.listener({ service: rec.spec.name, ...result });
  }

  private schedule(rec: ServiceRecord): void {
    this.unschedule(rec);
    if (this.closed || rec.desired !== 'running' || rec.spec.monitor.intervalMs <= 0) return;
    rec.timer = setTimeout(() => {
      rec.timer = undefined;
      void this.enqueue(rec, async () => {
        if (rec.desired !== 'running' || this.closed) return;
        this.observe(rec, await this.adapter(rec.spec).monitor(rec.spec));
        this.schedule(rec);
      });
    }, rec.spec.monitor.intervalMs);
  }

  private unschedule(rec: ServiceRecord): void {
    if (rec.timer) clearTimeout(rec.timer);
    rec.timer = undefined;
  }

  /** Stops the recurring monitors (services keep running). */
  close(): void {
    this.closed = true;
    for (const rec of this.services.values()) this.unschedule(rec);
  }
}
