// Note [Hardware profile matching]
// A hardware profile asks for cpu, memory and storage, each a fixed value or a range
// ({min?, max?}; a fixed value n means exactly n), and optionally an architecture. A provider
// profile matches when each of its amounts lies inside the asked range and its arch is the asked
// one. Among the matches the smallest wins: profiles are ordered by cpu, then memory, then storage
// (lexicographically, so one more core outweighs any amount of memory), then by cost per hour
// (cheapest first; an unknown cost sorts last), then by id so the choice is deterministic.

/** A fixed amount, or a range with optional bounds (inclusive). */
export interface AmountRange {
  min?: number;
  max?: number;
}
export type Amount = number | AmountRange;

/** What a user asks for (ARCHITECTURE §4: cpu, memory, storage, arch; ranges allowed). */
export interface HardwareProfileSpec {
  cpu?: Amount;
  memoryMb?: Amount;
  storageGb?: Amount;
  arch?: string;
}

/** What a provider offers: fixed amounts and a price. */
export interface ProviderProfileSpec {
  id: string;
  cpu: number;
  memoryMb: number;
  storageGb: number;
  arch: string;
  /** Cost per hour in the provider's currency; unknown sorts after every known cost. */
  costPerHour?: number | null;
}

export interface MatchRejection {
  profileId: string;
  reason: string;
}

export interface MatchResult<P extends ProviderProfileSpec> {
  /** The smallest matching profile (then the cheapest), if any matched. */
  chosen?: P;
  /** Every matching profile, in preference order (chosen first). */
  matches: P[];
  /** Every other profile with why it does not match. */
  rejections: MatchRejection[];
}

/** The inclusive bounds of an amount; a fixed value n is [n, n], an absent one is unbounded. */
export function amountBounds(a: Amount | undefined): { min: number; max: number } {
  if (a === undefined) return { min: 0, max: Number.POSITIVE_INFINITY };
  if (typeof a === 'number') return { min: a, max: a };
  return { min: a.min ?? 0, max: a.max ?? Number.POSITIVE_INFINITY };
}

const DIMENSIONS = [
  { key: 'cpu', unit: ' cpu' },
  { key: 'memoryMb', unit: ' MB memory' },
  { key: 'storageGb', unit: ' GB storage' },
] as const;

/** Why `p` does not satisfy `hw`, or undefined when it does. */
export function rejectionReason(hw: HardwareProfileSpec, p: ProviderProfileSpec): string | undefined {
  const reasons: string[] = [];
  if (hw.arch !== undefined && hw.arch !== p.arch) reasons.push(`arch ${p.arch} is not ${hw.arch}`);
  for (const d of DIMENSIONS) {
    const { min, max } = amountBounds(hw[d.key]);
    const have = p[d.key];
    if (have < min) reasons.push(`${have}${d.unit} is less than the ${min} asked`);
    else if (have > max) reasons.push(`${have}${d.unit} is more than the ${max} allowed`);
  }
  return reasons.length ? reasons.join('; ') : undefined;
}

/** Orders profiles by size (cpu, memory, storage), then cost, then id; see Note [Hardware profile matching]. */
export function compareProfiles(a: ProviderProfileSpec, b: ProviderProfileSpec): number {
  return (
    a.cpu - b.cpu ||
    a.memoryMb - b.memoryMb ||
    a.storageGb - b.storageGb ||
    costKey(a) - costKey(b) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function costKey(p: ProviderProfileSpec): number {
  return p.costPerHour == null ? Number.POSITIVE_INFINITY : p.costPerHour;
}

/**
 * Which provider profiles satisfy a hardware profile, and which one to use: the smallest match,
 * then the cheapest (see Note [Hardware profile matching]). Pure; the input is not modified.
 */
export function matchHardwareProfile<P extends ProviderProfileSpec>(
  hw: HardwareProfileSpec,
  profiles: readonly P[],
): MatchResult<P> {
  const matches: P[] = [];
  const rejections: MatchRejection[] = [];
  for (const p of profiles) {
    const reason = rejectionReason(hw, p);
    if (reason) rejections.push({ profileId: p.id, reason });
    else matches.push(p);
  }
  matches.sort(compareProfiles);
  return { chosen: matches[0], matches, rejections };
}
