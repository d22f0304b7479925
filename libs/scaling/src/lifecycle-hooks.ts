// Note [Lifecycle hooks]
// A `launching` hook holds a new server in PENDING:WAIT after it is ACTIVE and before it joins its
// balancers (warm caches, register elsewhere); a `terminating` hook holds a leaving server in
// TERMINATING:WAIT after it left its balancers and before it is deleted (drain work, copy logs).
// The wait ends when someone calls complete-lifecycle-action with CONTINUE or ABANDON, or when the
// hook's timeout passes, with the hook's default result. A heartbeat restarts the timeout (never
// beyond `maxWaitMs` from the start, so a stuck heartbeat cannot hold a server for ever).
// Results: launching + CONTINUE → the server joins; launching + ABANDON → the server is replaced;
// terminating (either result) → the server is deleted (ABANDON only skips further hooks).

export const HOOK_KINDS = ['launching', 'terminating'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export const HOOK_RESULTS = ['CONTINUE', 'ABANDON'] as const;
export type HookResult = (typeof HOOK_RESULTS)[number];

export interface LifecycleHook {
  readonly name: string;
  readonly kind: HookKind;
  /** Seconds without completion or heartbeat after which `defaultResult` applies. */
  readonly timeout: number;
  readonly defaultResult: HookResult;
}

/** A server waiting on a hook. */
export interface HookWait {
  readonly hook: string;
  readonly startedAtMs: number;
  readonly lastHeartbeatAtMs?: number;
  /** Set by complete-lifecycle-action. */
  readonly completed?: HookResult;
}

/** The longest a heartbeat can keep a server waiting: 100 timeouts, as AWS bounds it. */
export const MAX_WAIT_FACTOR = 100;

export type HookVerdict =
  | { readonly kind: 'wait'; readonly untilMs: number }
  | { readonly kind: 'done'; readonly result: HookResult; readonly reason: string };

/** Whether a wait is over at `nowMs`, and with which result (Note [Lifecycle hooks]). Pure. */
export function hookVerdict(hook: LifecycleHook, wait: HookWait, nowMs: number): HookVerdict {
  if (wait.completed)
    return { kind: 'done', result: wait.completed, reason: `completed with ${wait.completed}` };
  const timeoutMs = hook.timeout * 1000;
  const last = Math.max(wait.startedAtMs, wait.lastHeartbeatAtMs ?? 0);
  const untilMs = Math.min(last + timeoutMs, wait.startedAtMs + timeoutMs * MAX_WAIT_FACTOR);
  if (nowMs >= untilMs) {
    return {
      kind: 'done',
      result: hook.defaultResult,
      reason: `hook ${hook.name} timed out after ${hook.timeout} s: default result ${hook.defaultResult}`,
    };
  }
  return { kind: 'wait', untilMs };
}

/** What happens to the server once its hook is done. */
export function hookOutcome(kind: HookKind, result: HookResult): 'join' | 'replace' | 'delete' {
  if (kind === 'terminating') return 'delete';
  return result === 'CONTINUE' ? 'join' : 'replace';
}
