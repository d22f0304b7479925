import { RegistryRow } from '../deployables/deployables.repository';

/** What a supervision pass decides on (Note [Supervision]). */
export interface SupervisionObservation {
  rows: (RegistryRow & { desired: string })[];
  /** The latest heartbeat heard per deployable. */
  heartbeats: ReadonlyMap<string, { epoch: number; at: number }>;
  /** When this CPE became the leader, and when its bus came back (observer grace starts). */
  leaderSince?: number;
  busBackAt: number;
  busDown: boolean;
  heartbeatTimeoutMs: number;
  startGraceMs: number;
  observerGraceMs: number;
}

export type SupervisionStep =
  | { kind: 'stop'; deployableId: string }
  | { kind: 'start'; row: RegistryRow }
  | { kind: 'mark-running'; deployableId: string }
  | { kind: 'reset-restarts'; deployableId: string }
  | { kind: 'died'; row: RegistryRow; reason: string };

/** Whether the DPE of a row heartbeats under its current epoch. */
export function isAlive(o: SupervisionObservation, r: RegistryRow, now: number): boolean {
  const hb = o.heartbeats.get(r.deployable_id);
  return !!hb && hb.epoch === r.epoch && now - hb.at <= o.heartbeatTimeoutMs;
}

/** Pure: what to do with each deployable's DPE (Note [Supervision]). */
export function planSupervision(o: SupervisionObservation, now: number): SupervisionStep[] {
  const steps: SupervisionStep[] = [];
  for (const r of o.rows) {
    const id = r.deployable_id;
    if (r.desired !== 'started') {
      if (r.state === 'running' || r.state === 'starting') steps.push({ kind: 'stop', deployableId: id });
      continue;
    }
    switch (r.state) {
      case 'none':
      case 'stopped':
      case 'dead':
        if (!r.next_start_at || new Date(r.next_start_at).getTime() <= now)
          steps.push({ kind: 'start', row: r });
        break;
      case 'starting':
      case 'running': {
        const step = isAlive(o, r, now) ? healthy(r, now) : silent(o, r, now);
        steps.push(...step);
        break;
      }
      default:
        break;
    }
  }
  return steps;
}

function healthy(r: RegistryRow, now: number): SupervisionStep[] {
  const steps: SupervisionStep[] = [];
  if (r.state === 'starting') steps.push({ kind: 'mark-running', deployableId: r.deployable_id });
  if (r.restarts > 0 && r.started_at && now - new Date(r.started_at).getTime() > 60_000)
    steps.push({ kind: 'reset-restarts', deployableId: r.deployable_id });
  return steps;
}

/**
 * A DPE not heard under its epoch: a worker not yet heard gets DPE_START_GRACE_MS from its start;
 * after a leadership change or the bus coming back every DPE gets the shorter observer grace.
 */
function silent(o: SupervisionObservation, r: RegistryRow, now: number): SupervisionStep[] {
  const hb = o.heartbeats.get(r.deployable_id);
  const startedAt = r.started_at ? new Date(r.started_at).getTime() : 0;
  const observingSince = Math.max(o.leaderSince ?? 0, o.busBackAt);
  const heard = !!hb && hb.epoch === r.epoch;
  const silentFor = heard ? now - hb.at : now - Math.max(startedAt, observingSince);
  const judged =
    !o.busDown &&
    (heard || now - startedAt > o.startGraceMs) &&
    now - observingSince > o.observerGraceMs &&
    silentFor > o.heartbeatTimeoutMs;
  return judged
    ? [{ kind: 'died', row: r, reason: `no heartbeat for ${Math.round(silentFor / 100) / 10} s` }]
    : [];
}
