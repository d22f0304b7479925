// Note [Instance refresh]
// A launch-config change can start a refresh that replaces the servers of older launch-config
// versions batch by batch (AWS's instance refresh; Otter had none). Each batch retires `n` old
// servers and launches `n` new ones, where
//     n = min(batchSize, outdated servers, healthy − ceil(desired × minHealthyPercentage / 100))
// so the healthy count never drops below the floor. The batch then waits for its new servers to
// be healthy (ACTIVE and in their balancers, or the customer webhook answered) for at most
// `warmup`; a batch that is not healthy in time rolls the refresh back: the launch config returns
// to the previous version and the servers of the new version are replaced the same way. Pausing
// holds the refresh between batches; cancelling stops it where it is (servers already replaced
// stay). This module decides; the scaler executes and records the progress.
//
// Launch before retire (`launchBeforeRetire`): a batch first launches its `n` new servers on top
// of the desired capacity (the batch's `surge`), and retires its `n` old servers only once the
// new ones are healthy, so the healthy count never drops at all:
//     n = min(batchSize, outdated servers)
// A surge batch that is not healthy within the warmup rolls back as above, and its new servers
// are discarded (they are surplus: the old ones never left).

/** `{minHealthyPercentage, batchSize, warmup}` as the API takes them (warmup in seconds). */
export interface RefreshSpec {
  readonly minHealthyPercentage: number;
  readonly batchSize: number;
  readonly warmup: number;
  /** Launch each batch's new servers before retiring its old ones (see the note). */
  readonly launchBeforeRetire?: boolean;
}

export const REFRESH_STATUSES = [
  'running',
  'paused',
  'cancelled',
  'rolling-back',
  'succeeded',
  'rolled-back',
  'failed',
] as const;
export type RefreshStatus = (typeof REFRESH_STATUSES)[number];

export interface RefreshBatch {
  readonly startedAtMs: number;
  /** Old servers this batch retires. */
  readonly retire: readonly string[];
  /** How many new servers this batch launches. */
  readonly launch: number;
  /** The new servers launch on top of the desired capacity; `retire` goes once they are healthy. */
  readonly surge?: boolean;
}

export interface RefreshState {
  readonly status: RefreshStatus;
  /** The launch-config version servers are moving to (the previous one while rolling back). */
  readonly toVersion: number;
  readonly fromVersion: number;
  readonly batch?: RefreshBatch;
  readonly reason?: string;
}

/** A server as the refresh sees it. */
export interface RefreshServer {
  readonly id: string;
  readonly launchVersion: number;
  readonly healthy: boolean;
  /** Launched after the batch started (a new server of this batch). */
  readonly createdAtMs: number;
}

export type RefreshDecision =
  | { readonly kind: 'wait'; readonly reason: string; readonly state: RefreshState }
  | {
      readonly kind: 'start-batch';
      readonly retire: readonly string[];
      readonly launch: number;
      readonly state: RefreshState;
    }
  /** A surge batch's new servers are healthy: its old servers go now. */
  | { readonly kind: 'retire'; readonly retire: readonly string[]; readonly state: RefreshState }
  | { readonly kind: 'finish'; readonly state: RefreshState }
  | {
      readonly kind: 'roll-back';
      readonly reason: string;
      readonly state: RefreshState;
      /** New servers of a failed surge batch, to delete (nobody replaces them). */
      readonly discard: readonly string[];
    };

/** The lowest healthy count a refresh may go down to. */
export function healthyFloor(desired: number, minHealthyPercentage: number): number {
  return Math.max(0, Math.ceil((desired * minHealthyPercentage) / 100 - 1e-9));
}

/** The next step of a refresh at `nowMs` (Note [Instance refresh]). Pure. */
export function planRefresh(input: {
  readonly spec: RefreshSpec;
  readonly state: RefreshState;
  readonly desired: number;
  readonly servers: readonly RefreshServer[];
  readonly nowMs: number;
}): RefreshDecision {
  const { spec, state, desired, servers, nowMs } = input;
  if (state.status !== 'running' && state.status !== 'rolling-back') {
    return { kind: 'wait', reason: `refresh is ${state.status}`, state };
  }
  if (state.batch) return planBatch(spec, state, state.batch, servers, nowMs);
  return planNextBatch(spec, state, desired, servers, nowMs);
}

/** A batch is under way: it is healthy (cleared, or a surge batch retires), waits or rolls back. */
function planBatch(
  spec: RefreshSpec,
  state: RefreshState,
  batch: RefreshBatch,
  servers: readonly RefreshServer[],
  nowMs: number,
): RefreshDecision {
  const fresh = servers.filter(
    (s) => s.launchVersion === state.toVersion && s.createdAtMs >= batch.startedAtMs,
  );
  const ready = fresh.filter((s) => s.healthy).length;
  if (ready >= batch.launch) {
    if (batch.surge) {
      const present = new Set(servers.map((s) => s.id));
      return {
        kind: 'retire',
        retire: batch.retire.filter((id) => present.has(id)),
        state: { ...state, batch: undefined },
      };
    }
    return { kind: 'wait', reason: 'batch healthy', state: { ...state, batch: undefined } };
  }
  if (nowMs - batch.startedAtMs >= spec.warmup * 1000) {
    const reason = `batch not healthy within the warmup of ${spec.warmup} s (${ready} of ${batch.launch} new servers healthy)`;
    const discard = batch.surge ? fresh.map((s) => s.id) : [];
    if (state.status === 'rolling-back') {
      return {
        kind: 'roll-back',
        reason,
        discard,
        state: { ...state, status: 'failed', batch: undefined, reason },
      };
    }
    return {
      kind: 'roll-back',
      reason,
      discard,
      state: {
        status: 'rolling-back',
        toVersion: state.fromVersion,
        fromVersion: state.toVersion,
        reason,
      },
    };
  }
  return {
    kind: 'wait',
    reason: `waiting for ${batch.launch - ready} new server(s) to be healthy`,
    state,
  };
}

/** No batch under way: finish when nothing is outdated, else start the next batch the floor allows. */
function planNextBatch(
  spec: RefreshSpec,
  state: RefreshState,
  desired: number,
  servers: readonly RefreshServer[],
  nowMs: number,
): RefreshDecision {
  const outdated = servers
    .filter((s) => s.launchVersion !== state.toVersion)
    .sort(
      (a, b) =>
        Number(a.healthy) - Number(b.healthy) || a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1),
    );
  if (!outdated.length) {
    const done: RefreshStatus = state.status === 'rolling-back' ? 'rolled-back' : 'succeeded';
    return { kind: 'finish', state: { ...state, status: done, batch: undefined } };
  }
  if (spec.launchBeforeRetire) {
    const n = Math.min(spec.batchSize, outdated.length);
    const retire = outdated.slice(0, n).map((s) => s.id);
    return {
      kind: 'start-batch',
      retire,
      launch: n,
      state: { ...state, batch: { startedAtMs: nowMs, retire, launch: n, surge: true } },
    };
  }
  // Unhealthy old servers cost no healthy capacity: they can always go.
  const unhealthyOld = outdated.filter((s) => !s.healthy).length;
  const healthy = servers.filter((s) => s.healthy).length;
  const room = healthy - healthyFloor(desired, spec.minHealthyPercentage);
  const n = Math.min(spec.batchSize, outdated.length, unhealthyOld + Math.max(0, room));
  if (n <= 0) {
    return {
      kind: 'wait',
      reason: `${healthy} healthy; replacing one more would go below ${spec.minHealthyPercentage}% of ${desired}`,
      state,
    };
  }
  const retire = outdated.slice(0, n).map((s) => s.id);
  return {
    kind: 'start-batch',
    retire,
    launch: n,
    state: { ...state, batch: { startedAtMs: nowMs, retire, launch: n } },
  };
}
