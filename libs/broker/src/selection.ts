import { createPrng } from '@nephele/util';
import {
  BrokerConfigSnapshot,
  HardwareProfileConfig,
  PoolConfig,
  ProviderAccountConfig,
  ProviderProfileConfig,
} from './broker-config.types';
import { matchHardwareProfile } from './hardware-match';
import { Quota, quotaExceeded, Usage } from './quota';

// Note [Provider selection]
// Candidates are the accounts of the pool's family that are enabled, whose provider is enabled, that
// have an image mapping for the image, a provider profile matching the hardware profile, and quota
// headroom at account, pool and family level. Each account kept or dropped is recorded with why.
// The kept ones are ranked by a chain of strategies, each comparing two candidates and passing ties
// to the next: strict priority groups (lower first), recent-failure penalty, cost per hour, then
// weights. Within the top group (equal on every strategy but weight) one candidate is drawn at
// random in proportion to its weight — the draw is seeded (by the idempotency key) so a retried
// command makes the same choice. The launcher tries candidates in that order, up to a bound.

export interface SelectionRequest {
  pool: PoolConfig;
  hardwareProfile: HardwareProfileConfig;
  imageId: string;
  /** Provider image id per account id, as the ImageMapper resolved them (absent: no mapping). */
  mappings: ReadonlyMap<string, string>;
  /** Resources in use now (launched, not destroyed) per account, per pool and per family. */
  usage: { byAccount: ReadonlyMap<string, Usage>; pool: Usage; family: Usage };
  /** Launch failures per account in the penalty window. */
  recentFailures: ReadonlyMap<string, number>;
  /** Seeds the weighted pick (use the idempotency key). */
  seed: string;
}

export interface Candidate {
  account: ProviderAccountConfig;
  profile: ProviderProfileConfig;
  providerImageId: string;
  failures: number;
}

export interface CandidateDecision {
  providerAccountId: string;
  providerProfileId?: string;
  kept: boolean;
  reason: string;
}

export type RankingStrategy = 'priority' | 'failures' | 'cost' | 'weight';
export const DEFAULT_STRATEGIES: readonly RankingStrategy[] = ['priority', 'failures', 'cost', 'weight'];

export interface Selection {
  /** In the order to try them. */
  candidates: Candidate[];
  decisions: CandidateDecision[];
}

const ZERO: Usage = { instances: 0, cores: 0, memoryMb: 0 };

function quotaReason(level: string, quota: Quota, used: Usage, ask: Usage): string | undefined {
  const r = quotaExceeded(quota, used, ask);
  return r ? `${level} quota: ${r}` : undefined;
}

/** Filters and ranks the candidate accounts for one launch; see Note [Provider selection]. Pure. */
export function selectCandidates(
  snapshot: BrokerConfigSnapshot,
  req: SelectionRequest,
  strategies: readonly RankingStrategy[] = DEFAULT_STRATEGIES,
): Selection {
  const decisions: CandidateDecision[] = [];
  const kept: Candidate[] = [];
  const family = snapshot.poolFamilies.find((f) => f.id === req.pool.familyId);
  for (const accountId of family?.accountIds ?? []) {
    const c = admit(snapshot, req, family, accountId);
    if ('reason' in c) {
      decisions.push({
        providerAccountId: accountId,
        providerProfileId: c.providerProfileId,
        kept: false,
        reason: c.reason,
      });
    } else {
      kept.push(c);
    }
  }
  const ordered = rank(kept, strategies, req.seed);
  ordered.forEach((c, n) =>
    decisions.push({
      providerAccountId: c.account.id,
      providerProfileId: c.profile.id,
      kept: true,
      reason: `rank ${n + 1}: priority ${c.account.priority}, ${c.failures} recent failures, cost ${c.profile.costPerHour ?? 'unknown'}/h, weight ${c.account.weight}, profile ${c.profile.name}`,
    }),
  );
  return { candidates: ordered, decisions };
}

/** One account of the family as a candidate, or why it is dropped. */
function admit(
  snapshot: BrokerConfigSnapshot,
  req: SelectionRequest,
  family: BrokerConfigSnapshot['poolFamilies'][number] | undefined,
  accountId: string,
): Candidate | { reason: string; providerProfileId?: string } {
  const account = snapshot.providerAccounts.find((a) => a.id === accountId);
  if (!account) return { reason: 'account no longer exists' };
  const provider = snapshot.providers.find((p) => p.id === account.providerId);
  if (!account.enabled) return { reason: 'account disabled' };
  if (!provider?.enabled) return { reason: `provider ${provider?.name ?? account.providerId} disabled` };
  const providerImageId = req.mappings.get(accountId);
  if (!providerImageId) return { reason: `no image mapping for image ${req.imageId}` };
  const profiles = snapshot.providerProfiles.filter((p) => p.providerId === provider.id);
  const hw = req.hardwareProfile;
  const match = matchHardwareProfile(
    {
      cpu: hw.cpu ?? undefined,
      memoryMb: hw.memoryMb ?? undefined,
      storageGb: hw.storageGb ?? undefined,
      arch: hw.arch ?? undefined,
    },
    profiles,
  );
  if (!match.chosen) {
    return {
      reason: profiles.length
        ? `no provider profile matches ${hw.name}: ${match.rejections.map((r) => `${profiles.find((p) => p.id === r.profileId)?.name}: ${r.reason}`).join('; ')}`
        : `provider ${provider.name} has no profiles`,
    };
  }
  const profile = match.chosen;
  const ask: Usage = { instances: 1, cores: profile.cpu, memoryMb: profile.memoryMb };
  const over =
    quotaReason('account', account.quota, req.usage.byAccount.get(accountId) ?? ZERO, ask) ??
    quotaReason('pool', req.pool.quota, req.usage.pool, ask) ??
    (family ? quotaReason('pool family', family.quota, req.usage.family, ask) : undefined);
  if (over) return { reason: over, providerProfileId: profile.id };
  return { account, profile, providerImageId, failures: req.recentFailures.get(accountId) ?? 0 };
}

function compareBy(a: Candidate, b: Candidate, upTo: readonly RankingStrategy[]): number {
  for (const s of upTo) {
    const d =
      s === 'priority'
        ? a.account.priority - b.account.priority
        : s === 'failures'
          ? a.failures - b.failures
          : s === 'cost'
            ? (a.profile.costPerHour ?? Infinity) - (b.profile.costPerHour ?? Infinity)
            : 0;
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return 0;
}

/** Sorted by the deterministic strategies, then weighted draws within each group of ties. */
function rank(kept: Candidate[], strategies: readonly RankingStrategy[], seed: string): Candidate[] {
  const deterministic = strategies.filter((s) => s !== 'weight');
  const sorted = [...kept].sort(
    (a, b) => compareBy(a, b, deterministic) || (a.account.id < b.account.id ? -1 : 1),
  );
  const ordered: Candidate[] = [];
  const rand = createPrng(seed).next;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && compareBy(sorted[i]!, sorted[j]!, deterministic) === 0) j++;
    const group = sorted.slice(i, j);
    while (group.length) {
      const k = strategies.includes('weight')
        ? weightedIndex(
            group.map((c) => c.account.weight),
            rand(),
          )
        : 0;
      ordered.push(group.splice(k, 1)[0]!);
    }
    i = j;
  }
  return ordered;
}

/** Index drawn in proportion to the weights (all zero → uniform). */
export function weightedIndex(weights: number[], r: number): number {
  const w = weights.map((x) => (x > 0 ? x : 0));
  const total = w.reduce((a, b) => a + b, 0);
  if (total === 0) return Math.min(weights.length - 1, Math.floor(r * weights.length));
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    acc += w[i]!;
    if (r * total < acc) return i;
  }
  return w.length - 1;
}
