import { InstanceState, ProviderInstanceView } from '@nephele/contracts';
import { InstanceRow } from './instances.repository';

/** A state observed for an instance (by the gateway, a poll, a callback or a feed). */
export interface PollObservation {
  state: InstanceState;
  addresses?: string[];
  reason: string;
  source: 'poll';
}

/** The columns of a live instance a poll compares (the poller reads only these: Note [Poll cost]). */
export type PollRow = Pick<InstanceRow, 'id' | 'provider_instance_id' | 'state' | 'addresses'> & {
  /** A Date, or milliseconds since the epoch (what the poller reads: no timestamp parsing). */
  created_at: Date | number;
};

const ms = (t: Date | number): number => (typeof t === 'number' ? t : new Date(t).getTime());

// Note [Poll cost]
// A cycle must cost little more than its unavoidable work: one list call per account and one read
// of the account's live rows (`npm run bench -- tracker` measures both in the same run). Profiled
// at 100,000 instances (node --cpu-prof): decoding rows of all 17 columns (the poll needs 6),
// parsing two timestamps per row into Dates, sending every unchanged id back in an UPDATE … =
// ANY($1) each cycle only for the database to find them touched less than a minute ago, and
// JSON.stringify-comparing addresses cost ≈3× the baseline. So the read took the 6 columns (times
// as epoch milliseconds), the plan decided in memory which unchanged rows are due a last-seen touch,
// and addresses compared element by element. Profiled again
// (2026-12, the cycle alone, 3.4–4.8× the baseline on a loaded machine): the process was
// CPU-bound, a third of it in pg decoding 100,000 row objects, a tenth in planPoll over them and
// a fifth in the garbage collector. So the comparison is set-based now (pollCandidates): the
// provider's list goes to the database as one JSON parameter, is joined there with the live rows,
// and only the rows a plan can act on come back — changed or not listed — with the listed ids no
// live row has. planPoll runs on those rows alone; a poll's changes are written in one
// transaction with one UPDATE for all rows, not one per row.
// Profiled again (2026-12, bench profile of the measured cycles, 1,000,000 / 100 accounts: 4,101 ms
// vs a 1,839 ms baseline, 2.23×; 100,000: 2.5–3.1×): the process spent its time on JSON.parse of
// the gateway's replies (10% of samples), JSON.stringify of the parsed list back for the jsonb
// parameter (5%), its UTF-8 encoding for the wire (3%) and the garbage collector collecting those
// 1,000,000 objects a cycle (16%). The tracker never reads the list itself, so it no longer builds
// it: the reply comes off the bus as bytes (Bus.requestJson) and goes to PostgreSQL as they are, a
// binary jsonb parameter; the query returns, with each candidate row, what the provider listed for
// it, and the reply's `at`. The join is one FULL JOIN (no materialised CTEs), and the live count
// comes with the accounts (liveAccounts).
// The same bench with more rounds showed the other cost: once a minute every row was due a
// last-seen touch, and that cycle took 9–12 s (2.3 s without): 1,000,000 rows back to the process
// and 1,000,000 ids in UPDATEs, each rewriting a row version and its index entries. Last-seen moves
// for all of an account's listed instances at once, so it is written once per account now: the
// poll records the list's time and the live instances it did not list (account_polls, see
// `markPolled`); a row's own last_seen still moves when its state or addresses change, and the
// read takes the later of the two (instances.repository.ts, LAST_SEEN). Same run, 1,000,000 / 100
// accounts, old → new: cycle 3,972 → 2,476 ms against baselines of 1,938 / 1,942 ms (2.05× → 1.27×),
// the touch cycle 12,561 ms → none, a cycle with 1,000 provider changes 5,417 → 3,252 ms (2.80× →
// 1.67×). The process is now mostly idle during a cycle: the rest is PostgreSQL and the broker.

/** What one poll of an account means for the store. */
export interface PollPlan {
  /** Instances whose state or addresses changed, or that vanished, with what was seen. */
  observations: Map<string, PollObservation>;
  /** When the provider listed the account (the others' last-seen time). */
  listedAt: Date;
  /** Provider ids of live instances the provider did not list (their last-seen time stays). */
  unlisted: string[];
  /** Provider instances not in the store's live list (orphans unless the store knows them otherwise). */
  unknownProviderIds: string[];
}

/**
 * Pure: compares the store's live instances of an account with what the provider listed. An
 * instance missing from the list counts as vanished only once it is older than the grace (a launch
 * may not be listed yet).
 */
export function planPoll(
  known: PollRow[],
  listed: ProviderInstanceView[],
  listedAt: Date,
  vanishGraceMs: number,
  /**
   * The listed ids no live row has, when the store already worked them out (the poller's
   * candidate read, Note [Poll cost]); `known` then holds only the candidate rows.
   */
  unknown?: string[],
): PollPlan {
  // Without candidates (the poller's usual case, Note [Poll cost]) there is nothing to look up.
  const byProviderId = new Map(known.length ? listed.map((p) => [p.id, p]) : []);
  const observations = new Map<string, PollObservation>();
  const unlisted: string[] = [];
  const knownProviderIds = new Set<string>();
  for (const row of known) {
    if (!row.provider_instance_id) continue;
    knownProviderIds.add(row.provider_instance_id);
    const p = byProviderId.get(row.provider_instance_id);
    if (p) {
      if (p.state !== row.state || !sameAddresses(p.addresses, row.addresses))
        observations.set(row.id, {
          state: p.state,
          addresses: p.addresses,
          reason: `provider reports ${p.state}`,
          source: 'poll',
        });
      continue;
    }
    unlisted.push(row.provider_instance_id);
    if (listedAt.getTime() - ms(row.created_at) > vanishGraceMs) {
      observations.set(row.id, {
        state: 'terminated',
        reason: row.state === 'terminating' ? 'destroyed at the provider' : 'vanished: gone at the provider',
        source: 'poll',
      });
    }
  }
  const unknownProviderIds =
    unknown ?? listed.filter((p) => !knownProviderIds.has(p.id) && p.state !== 'terminated').map((p) => p.id);
  return { observations, listedAt, unlisted, unknownProviderIds };
}

function sameAddresses(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
