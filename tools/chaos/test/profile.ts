/** How big and how long the fault-injection run is: `CHAOS_PROFILE=short` (CI, default) or `long`. */
export interface ChaosProfile {
  name: 'short' | 'long';
  /** Every fault is injected this many times (in the same order each round). */
  rounds: number;
  /** Events per second published to `nephele.events` with confirms. */
  eventsPerSecond: number;
  /** Deployables kept running; deployable i has 1 + (i % 2) assemblies. */
  deployables: number;
  /** The group's desired capacity alternates between these two (one policy execution per fault). */
  groupSizes: [number, number];
  /** A fault counts as recovered once everything has been healthy this long without a break. */
  stableMs: number;
  /** Give up on one fault after this long (a real bug: the run fails, later faults still run). */
  recoverTimeoutMs: number;
  /** How long a killed service process stays down before it is started again (an orchestrator's delay). */
  processDownMs: number;
  /** How long RabbitMQ stays stopped. */
  brokerDownMs: number;
}

const PROFILES: Record<ChaosProfile['name'], ChaosProfile> = {
  short: {
    name: 'short',
    rounds: 1,
    eventsPerSecond: 150,
    deployables: 2,
    groupSizes: [2, 3],
    stableMs: 4000,
    recoverTimeoutMs: 150_000,
    processDownMs: 1000,
    brokerDownMs: 2000,
  },
  long: {
    name: 'long',
    rounds: 3,
    eventsPerSecond: 400,
    deployables: 4,
    groupSizes: [2, 4],
    stableMs: 8000,
    recoverTimeoutMs: 300_000,
    processDownMs: 5000,
    brokerDownMs: 8000,
  },
};

export function chaosProfile(env: NodeJS.ProcessEnv = process.env): ChaosProfile {
  const name = (env.CHAOS_PROFILE ?? 'short') as ChaosProfile['name'];
  const p = PROFILES[name];
  if (!p) throw new Error(`CHAOS_PROFILE must be short or long (got ${name})`);
  return p;
}
