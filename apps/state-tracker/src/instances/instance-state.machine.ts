import { InstanceState } from '@nephele/contracts';

// Note [Instance states]
// The tracker hears about an instance from several sources that race: the gateway's results, the
// poller, provider callbacks and feed events. It accepts an observation only if the transition is
// possible for a real machine. `terminated` is final: a late "running" from a lagging source cannot
// resurrect a destroyed instance; `terminating` only ends in `terminated` (or `error`). Everything
// else may move freely because providers skip intermediate states between two polls.

const ALLOWED: Record<InstanceState, readonly InstanceState[]> = {
  pending: ['running', 'stopping', 'stopped', 'rebooting', 'terminating', 'terminated', 'error'],
  running: ['stopping', 'stopped', 'rebooting', 'terminating', 'terminated', 'error', 'pending'],
  stopping: ['stopped', 'running', 'terminating', 'terminated', 'error'],
  stopped: ['pending', 'running', 'terminating', 'terminated', 'error'],
  rebooting: ['running', 'pending', 'stopped', 'terminating', 'terminated', 'error'],
  terminating: ['terminated', 'error'],
  terminated: [],
  error: ['pending', 'running', 'stopped', 'terminating', 'terminated'],
};

export const TRANSITIONAL: ReadonlySet<InstanceState> = new Set([
  'pending',
  'stopping',
  'rebooting',
  'terminating',
]);

export type TransitionVerdict = { kind: 'same' } | { kind: 'allowed' } | { kind: 'refused'; reason: string };

export function judgeTransition(from: InstanceState, to: InstanceState): TransitionVerdict {
  if (from === to) return { kind: 'same' };
  if (ALLOWED[from].includes(to)) return { kind: 'allowed' };
  return { kind: 'refused', reason: `impossible transition ${from} → ${to}` };
}
