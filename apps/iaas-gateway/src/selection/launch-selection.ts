import {
  BrokerConfigSnapshot,
  Candidate,
  CandidateDecision,
  HardwareProfileConfig,
  ImageConfig,
  PoolConfig,
  selectCandidates,
  SelectionRequest,
} from '@nephele/broker';

// Pure: what a launch asks for, resolved against the broker configuration, and the candidates to
// try in order (see Note [Provider selection] in @nephele/broker). No I/O: the image mappings,
// usage and failure counts are gathered by the LaunchRequestResolver and passed in.

/** What a launch command names (by id or name, in its project when it has one). */
export interface LaunchAsk {
  pool: string;
  hardwareProfile: string;
  image: string;
  project?: string;
}

/** The configuration objects a launch resolved to. */
export interface LaunchTarget {
  pool: PoolConfig;
  hardwareProfile: HardwareProfileConfig;
  image: ImageConfig;
  /** The accounts of the pool's family (in the family's order). */
  familyAccountIds: string[];
}

/** Finds the pool, hardware profile and image a launch names; a reason when one is missing or off. */
export function resolveTarget(
  snapshot: BrokerConfigSnapshot,
  ask: LaunchAsk,
): LaunchTarget | { error: string } {
  const inProject = <T extends { project: string; id: string; name: string }>(items: T[], ref: string) =>
    items.filter((x) => (x.id === ref || x.name === ref) && (!ask.project || x.project === ask.project));
  const [pool] = inProject(snapshot.pools, ask.pool);
  if (!pool) return { error: `pool ${ask.pool} not found${ask.project ? ` in project ${ask.project}` : ''}` };
  if (!pool.enabled) return { error: `pool ${pool.name} is disabled` };
  const [hw] = inProject(snapshot.hardwareProfiles, ask.hardwareProfile).filter(
    (h) => h.project === pool.project,
  );
  if (!hw) return { error: `hardware profile ${ask.hardwareProfile} not found in the pool's project` };
  const [image] = inProject(snapshot.images, ask.image).filter((i) => i.project === pool.project);
  if (!image) return { error: `image ${ask.image} not found in the pool's project` };
  const family = snapshot.poolFamilies.find((f) => f.id === pool.familyId);
  return { pool, hardwareProfile: hw, image, familyAccountIds: family?.accountIds ?? [] };
}

export interface LaunchSelection {
  /** The candidates to try, in order, at most `maxAttempts`. */
  tries: Candidate[];
  /** Every account kept or dropped, and why (published with each attempt). */
  decisions: CandidateDecision[];
  /** Why nothing can be tried, when nothing can. */
  none?: string;
}

/** Ranks the candidates for a resolved launch and bounds the attempts. */
export function selectForLaunch(
  snapshot: BrokerConfigSnapshot,
  target: LaunchTarget,
  inputs: Pick<SelectionRequest, 'mappings' | 'usage' | 'recentFailures' | 'seed'>,
  maxAttempts: number,
): LaunchSelection {
  const selection = selectCandidates(snapshot, {
    pool: target.pool,
    hardwareProfile: target.hardwareProfile,
    imageId: target.image.id,
    ...inputs,
  });
  if (selection.candidates.length) {
    return { tries: selection.candidates.slice(0, maxAttempts), decisions: selection.decisions };
  }
  const why = selection.decisions.map((x) => `${x.providerAccountId}: ${x.reason}`).join('; ');
  return {
    tries: [],
    decisions: selection.decisions,
    none: `no provider account can take it: ${why || 'the pool family has no accounts'}`,
  };
}
