import { InstanceState, ProviderInstanceView } from '@nephele/contracts';
import { InstanceRow } from './instances.repository';

/** A state observed for an instance (by the gateway, a poll, a callback or a feed). */
export interface PollObservation {
  state: InstanceState;
  addresses?: string[];
  reason: string;
  source: 'poll';
}

/** What one poll of an account means for the store. */
export interface PollPlan {
  /** Instances whose state or addresses changed, or that vanished, with what was seen. */
  observations: Map<string, PollObservation>;
  /** Instances the provider lists unchanged (their last-seen time moves on). */
  unchanged: string[];
  /** Provider instances not in the store's live list (orphans unless the store knows them otherwise). */
  unknownProviderIds: string[];
}

/**
 * Pure: compares the store's live instances of an account with what the provider listed. An
 * instance missing from the list counts as vanished only once it is older than the grace (a launch
 * may not be listed yet).
 */
export function planPoll(
  known: InstanceRow[],
  listed: ProviderInstanceView[],
  listedAt: Date,
  vanishGraceMs: number,
): PollPlan {
  const byProviderId = new Map(listed.map((p) => [p.id, p]));
  const observations = new Map<string, PollObservation>();
  const unchanged: string[] = [];
  const knownProviderIds = new Set<string>();
  for (const row of known) {
    if (!row.provider_instance_id) continue;
    knownProviderIds.add(row.provider_instance_id);
    const p = byProviderId.get(row.provider_instance_id);
    if (p) {
      const sameAddr = JSON.stringify(p.addresses) === JSON.stringify(row.addresses);
      if (p.state === row.state && sameAddr) unchanged.push(row.id);
      else
        observations.set(row.id, {
          state: p.state,
          addresses: p.addresses,
          reason: `provider reports ${p.state}`,
          source: 'poll',
        });
    } else if (listedAt.getTime() - new Date(row.created_at).getTime() > vanishGraceMs) {
      observations.set(row.id, {
        state: 'terminated',
        reason: row.state === 'terminating' ? 'destroyed at the provider' : 'vanished: gone at the provider',
        source: 'poll',
      });
    }
  }
  const unknownProviderIds = listed
    .filter((p) => !knownProviderIds.has(p.id) && p.state !== 'terminated')
    .map((p) => p.id);
  return { observations, unchanged, unknownProviderIds };
}
