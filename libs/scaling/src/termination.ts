import { ObservedServer } from './scaling.types';

// Note [Victim choice]
// When a group scales in, the planner removes pending builds first (newest first: cancelling a
// build loses nothing), then ACTIVE servers in the order of the group's `terminationPolicy`:
//   oldest                — the longest-running first (Otter's rule; the default);
//   newest                — the most recent first;
//   oldest-launch-config  — servers launched from the oldest launch-config version first, then oldest;
//   closest-to-next-hour  — the one whose running time is closest to a whole hour first (billing
//                           by the hour: the hour it has started is paid anyway), then oldest;
//   custom                — the order a customer webhook answered (the scaler asks it, with a timeout);
//                           servers it did not name, or every server when it did not answer in time,
//                           follow `oldest`.
// A `protected` server is never chosen: if too few unprotected servers are left, the group stays
// above its desired capacity until one is unprotected. A `detached` server is not the group's any
// more (kept for debugging): it is not counted, not chosen and not replaced; it only leaves the
// balancers.

export const TERMINATION_POLICIES = [
  'oldest',
  'newest',
  'oldest-launch-config',
  'closest-to-next-hour',
  'custom',
] as const;
export type TerminationPolicy = (typeof TERMINATION_POLICIES)[number];

const HOUR = 3_600_000;

function byOldest(a: ObservedServer, b: ObservedServer): number {
  const d = a.createdAt.getTime() - b.createdAt.getTime();
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The servers a scale-in may remove, in the order it removes them (Note [Victim choice]):
 * protected servers are left out; `customOrder` (server ids) applies to `custom`.
 */
export function victimOrder(
  servers: readonly ObservedServer[],
  policy: TerminationPolicy,
  now: Date,
  customOrder: readonly string[] = [],
): ObservedServer[] {
  const candidates = servers.filter((s) => !s.protected && !s.detached);
  switch (policy) {
    case 'oldest':
      return candidates.sort(byOldest);
    case 'newest':
      return candidates.sort((a, b) => byOldest(b, a));
    case 'oldest-launch-config':
      return candidates.sort((a, b) => (a.launchVersion ?? 0) - (b.launchVersion ?? 0) || byOldest(a, b));
    case 'closest-to-next-hour': {
      const left = (s: ObservedServer) => HOUR - ((now.getTime() - s.createdAt.getTime()) % HOUR);
      return candidates.sort((a, b) => left(a) - left(b) || byOldest(a, b));
    }
    case 'custom': {
      const rank = new Map(customOrder.map((id, i) => [id, i]));
      const named = candidates
        .filter((s) => rank.has(s.id))
        .sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);
      const rest = candidates.filter((s) => !rank.has(s.id)).sort(byOldest);
      return [...named, ...rest];
    }
  }
}
