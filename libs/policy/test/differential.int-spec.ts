// Differential test: Nephele's plan() against Pacemaker's scheduler (crm_simulate), on seeded
// random clusters inside the supported subset. See Note [Pacemaker assignment] in src/assign.ts.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { generateCluster, plan, readCib, writeCib } from '../src';
import { mapLimit, runCrmSimulate } from './crm-simulate';

const CASES = Number(process.env.POLICY_DIFF_CASES ?? 1000);
const FIRST_SEED = Number(process.env.POLICY_DIFF_SEED ?? 1);
const REGRESSIONS = join(__dirname, 'regressions');

interface Outcome {
  name: string;
  xml: string;
  placementDiffs: string[];
  scoreDiffs: string[];
  /** Action summaries that differ (informational: crm_simulate may summarise a blocked restart
   * as "restart" while its transition only stops; placement is what must agree). */
  actionDiffs: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

async function compare(name: string, xml: string, dir: string): Promise<Outcome> {
  const input = readCib(xml);
  if (input.now === undefined) throw new Error(`${name}: CIB has no execution-date`);
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  const pm = await runCrmSimulate(file, iso(input.now));
  const ours = plan(input.spec, input.state, input.history, input.now, { withScores: true });
  const placementDiffs: string[] = [];
  const scoreDiffs: string[] = [];
  for (const r of input.spec.resources) {
    if (pm.placement[r.id] !== ours.placement[r.id]) {
      placementDiffs.push(`${r.id}: crm_simulate=${pm.placement[r.id]} nephele=${ours.placement[r.id]} (${ours.explanations[r.id]})`);
    }
    for (const [node, score] of Object.entries(pm.scores[r.id] ?? {})) {
      if (ours.scores?.[r.id]?.[node] !== score) scoreDiffs.push(`${r.id}@${node}: crm_simulate=${score} nephele=${ours.scores?.[r.id]?.[node]}`);
    }
  }
  const norm = (kind: string, rsc: string, node?: string, from?: string): string =>
    `${kind === 'recover' ? (from !== undefined && from !== node ? 'move' : 'restart') : kind}:${rsc}`;
  const theirs = new Set(pm.actions.map((x) => norm(x.action, x.resource, x.node, x.from)));
  const mine = new Set(ours.actions.map((x) => norm(x.kind, 'resource' in x ? x.resource : x.node)));
  const actionDiffs = [...[...theirs].filter((x) => !mine.has(x)).map((x) => `crm_simulate only ${x}`), ...[...mine].filter((x) => !theirs.has(x)).map((x) => `nephele only ${x}`)];
  return { name, xml, placementDiffs, scoreDiffs, actionDiffs };
}

function report(failures: Outcome[]): string {
  const first = failures[0]!;
  mkdirSync(REGRESSIONS, { recursive: true });
  const saved = join(REGRESSIONS, `${first.name}.xml`);
  if (!first.name.startsWith('regression-')) writeFileSync(saved, first.xml);
  return [
    `${failures.length} case(s) disagree; first: ${first.name} (CIB saved as ${saved})`,
    ...first.placementDiffs.map((d) => `  placement ${d}`),
    ...first.scoreDiffs.slice(0, 10).map((d) => `  score ${d}`),
  ].join('\n');
}

describe('plan() against crm_simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephele-policy-diff-'));

  it(`places ${CASES} generated clusters exactly as Pacemaker does`, async () => {
    const seeds = Array.from({ length: CASES }, (_, i) => FIRST_SEED + i);
    const outcomes = await mapLimit(seeds, 2, (seed) => {
      const g = generateCluster(seed);
      return compare(`seed-${seed}`, writeCib(g.spec, g.state, g.history, { now: g.now }), dir);
    });
    const failures = outcomes.filter((o) => o.placementDiffs.length > 0 || o.scoreDiffs.length > 0);
    const resources = outcomes.reduce((n, o) => n + (readCib(o.xml).spec.resources.length), 0);
    const actionDiffs = outcomes.filter((o) => o.actionDiffs.length > 0);
    console.log(
      `differential: ${outcomes.length} cases, ${resources} resources compared, ${failures.length} placement/score disagreements, ` +
        `${outcomes.length - actionDiffs.length} identical action summaries` +
        (actionDiffs.length > 0 ? ` (differing: ${actionDiffs.slice(0, 3).map((o) => `${o.name} ${o.actionDiffs.join(', ')}`).join('; ')})` : ''),
    );
    if (failures.length > 0) throw new Error(report(failures));
  });

  it('agrees on every saved regression CIB', async () => {
    const files = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS).filter((f) => f.endsWith('.xml')) : [];
    const outcomes = await mapLimit(files, 2, (f) =>
      compare(`regression-${f.replace(/\.xml$/, '')}`, readFileSync(join(REGRESSIONS, f), 'utf8'), dir),
    );
    const failures = outcomes.filter((o) => o.placementDiffs.length > 0 || o.scoreDiffs.length > 0);
    if (failures.length > 0) throw new Error(report(failures));
  });
});
