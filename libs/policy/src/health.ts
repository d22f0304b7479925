import { HealthScores, char2score } from './rules';

// Note [Node health]
// ~~~~~~~~~~~~~~~~~~
// Pacemaker 2.1.5's node-health-strategy (`pe__unpack_node_health_scores`,
// `pcmk__apply_node_health`). The strategy sets the scores of the colours red/yellow/green
// (none: 0/0/0; migrate-on-red: −INFINITY/0/0; only-green: −INFINITY/−INFINITY/0; progressive
// and custom: the node-health-red/-yellow/-green options, default −INFINITY/0/0) — also where
// `char2score` meets a colour elsewhere (score-attribute). Unless the strategy is none, each
// node's health is the sum of its `#health*` attributes (plus node-health-base for
// progressive); a non-zero health is a location score of every resource on that node
// (a negative one spares resources with allow-unhealthy-nodes=true). These locations are created
// before the constraints are unpacked, so they are applied after every rsc_location.

export type HealthStrategy = 'none' | 'migrate-on-red' | 'only-green' | 'progressive' | 'custom';

/** The strategy named by the option, or undefined when it names none of them. */
export function parseHealthStrategy(value: string | undefined): HealthStrategy | undefined {
  const v = (value ?? 'none').toLowerCase();
  return (['none', 'migrate-on-red', 'only-green', 'progressive', 'custom'] as const).find((s) => s === v);
}

/** The colour scores of a strategy. */
export function healthScores(strategy: HealthStrategy, options: ReadonlyMap<string, string>): HealthScores {
  const raw: HealthScores = { red: 0, yellow: 0, green: 0 };
  switch (strategy) {
    case 'none':
      return raw;
    case 'migrate-on-red':
      return { red: -1_000_000, yellow: 0, green: 0 };
    case 'only-green':
      return { red: -1_000_000, yellow: -1_000_000, green: 0 };
    case 'progressive':
    case 'custom':
      return {
        red: char2score(options.get('node-health-red') ?? '-INFINITY', raw),
        yellow: char2score(options.get('node-health-yellow') ?? '0', raw),
        green: char2score(options.get('node-health-green') ?? '0', raw),
      };
  }
}

/** `pe__sum_node_health_scores`: the node's overall health (0 = no effect). */
export function nodeHealth(
  strategy: HealthStrategy,
  attrs: ReadonlyMap<string, string>,
  options: ReadonlyMap<string, string>,
  scores: HealthScores,
  addScores: (a: number, b: number) => number,
): number {
  if (strategy === 'none') return 0;
  let health = strategy === 'progressive' ? char2score(options.get('node-health-base') ?? '0', scores) : 0;
  for (const [k, v] of attrs) if (k.startsWith('#health')) health = addScores(char2score(v, scores), health);
  return health;
}
