// Note [Reconcile shape]
// Every loop that keeps something the way it should be (the DPE, the state tracker's poll, the CPE
// supervisor, the scaler's converger) has the same four stages, in this order:
//   1. gather  — read the observed state (I/O): the message only names the object, the pass
//                re-reads it (level-based, like controller-runtime's Reconcile);
//   2. plan    — decide (pure: observed state and `now` in, steps out, no I/O, no clock);
//   3. execute — carry the steps out (I/O), each step answering with a ReconcileResult;
//   4. classify — the worst result wins: terminal > requeue-after (the shortest delay) > done.
// A pass that throws is a bug or an outage: `runReconcile` logs it and asks to be run again after
// `errorDelayMs` (a thrown error is never terminal: only a step that knows says so).
// `runReconcile` is the only runner; a loop schedules passes with `PollingLoop` (@nephele/util),
// returning `delayOf(result)`.

/** How a reconcile pass (or one of its steps) ended. */
export type ReconcileResult =
  | { readonly kind: 'done' }
  | { readonly kind: 'requeue-after'; readonly ms: number; readonly reason?: string }
  | { readonly kind: 'terminal'; readonly reason: string };

export const ReconcileResult = {
  /** Nothing left to do until something changes. */
  done: (): ReconcileResult => ({ kind: 'done' }),
  /** Run again after `ms` (a back-off, a step in flight, a dependency not there yet). */
  requeueAfter: (ms: number, reason?: string): ReconcileResult => ({
    kind: 'requeue-after',
    ms: Math.max(0, ms),
    ...(reason !== undefined ? { reason } : {}),
  }),
  /** Failed for good: retrying cannot help until the user changes something. */
  terminal: (reason: string): ReconcileResult => ({ kind: 'terminal', reason }),
};

/** What the pure planner decided: the steps to carry out, and the result when there are none. */
export interface ReconcilePlan<S> {
  readonly steps: readonly S[];
  /** The pass's result besides the steps' own (e.g. `requeueAfter` to look again at a deadline). */
  readonly result?: ReconcileResult;
}

/**
 * One reconcile loop's stages (see Note [Reconcile shape]). `K` names the object (a deployable id,
 * an account id, a group id; `void` for a loop over everything), `O` is the observed state, `S` a step.
 */
export interface Reconciler<K, O, S> {
  /** Reads the observed state; `undefined` when the object is gone (the pass is then done). */
  gather(key: K): Promise<O | undefined>;
  /** Pure: no I/O, no clock but `now`. */
  plan(observed: O, now: number): ReconcilePlan<S>;
  /**
   * Carries the steps out; the default for most loops is `executeInOrder`. A reconciler whose
   * steps form a graph uses `executeGraph`.
   */
  execute(steps: readonly S[], observed: O): Promise<ReconcileResult>;
}

export interface RunReconcileOptions {
  now?: () => number;
  /** Delay before the pass runs again after it threw (default 5 s). */
  errorDelayMs?: number;
  log?: { warn(obj: object, msg: string): void };
  /** For the log line of a thrown pass. */
  name?: string;
}

/** Runs one pass: gather → plan → execute → classify. */
export async function runReconcile<K, O, S>(
  r: Reconciler<K, O, S>,
  key: K,
  opts: RunReconcileOptions = {},
): Promise<ReconcileResult> {
  try {
    const observed = await r.gather(key);
    if (observed === undefined) return ReconcileResult.done();
    const plan = r.plan(observed, (opts.now ?? Date.now)());
    const own = plan.result ?? ReconcileResult.done();
    if (plan.steps.length === 0) return own;
    return worstOf([own, await r.execute(plan.steps, observed)]);
  } catch (e) {
    const err = e as Error;
    opts.log?.warn({ err: err.message, stack: err.stack, key }, `${opts.name ?? 'reconcile'} failed`);
    return ReconcileResult.requeueAfter(opts.errorDelayMs ?? 5000, err.message);
  }
}

const rank = { done: 0, 'requeue-after': 1, terminal: 2 } as const;

/** The worst of several results: terminal > requeue-after (the shortest delay) > done. */
export function worstOf(results: readonly ReconcileResult[]): ReconcileResult {
  let worst: ReconcileResult = ReconcileResult.done();
  for (const r of results) {
    if (rank[r.kind] > rank[worst.kind]) worst = r;
    else if (r.kind === 'requeue-after' && worst.kind === 'requeue-after' && r.ms < worst.ms) worst = r;
  }
  return worst;
}

/** The delay a `PollingLoop` pass returns: undefined (its idle delay) when done or terminal. */
export function delayOf(result: ReconcileResult): number | undefined {
  return result.kind === 'requeue-after' ? result.ms : undefined;
}

/** Runs steps one after another; stops at the first that is not done, and returns its result. */
export async function executeInOrder<S>(
  steps: readonly S[],
  run: (step: S) => Promise<ReconcileResult>,
): Promise<ReconcileResult> {
  for (const s of steps) {
    const r = await run(s);
    if (r.kind !== 'done') return r;
  }
  return ReconcileResult.done();
}

/** A step of a graph: it runs once every step named in `after` is done. */
export interface GraphStep {
  readonly id: string;
  readonly after: readonly string[];
}

/**
 * Runs a step graph in waves: every step whose predecessors are done runs, concurrently with the
 * others ready; after a wave with a step not done, no further wave starts (`shouldStop` ends it
 * early too). Returns the worst result (done when every step ran and was done).
 */
export async function executeGraph<S extends GraphStep>(
  steps: readonly S[],
  run: (step: S) => Promise<ReconcileResult>,
  shouldStop: () => boolean = () => false,
): Promise<ReconcileResult> {
  const done = new Set<string>();
  const pending = new Map(steps.map((s) => [s.id, s]));
  const results: ReconcileResult[] = [];
  while (pending.size && !shouldStop()) {
    const ready = [...pending.values()].filter((s) => s.after.every((x) => done.has(x)));
    if (!ready.length)
      return worstOf([
        ...results,
        ReconcileResult.requeueAfter(1000, 'steps wait for steps that did not run'),
      ]);
    const wave = await Promise.all(ready.map((s) => run(s)));
    ready.forEach((s, i) => {
      pending.delete(s.id);
      if (wave[i]!.kind === 'done') done.add(s.id);
    });
    results.push(...wave);
    if (wave.some((x) => x.kind !== 'done')) break;
  }
  return worstOf(results);
}
