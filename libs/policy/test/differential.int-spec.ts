// Differential test: Nephele's plan() against Pacemaker's scheduler (crm_simulate), on seeded
// random clusters inside the supported subset. See Note [Pacemaker assignment] in src/assign.ts.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { GeneratedCluster, INFINITY, LocationConstraint, generateCluster, plan, readCib, writeCib } from '../src';
import { mapLimit, runCrmSimulate } from './crm-simulate';

const CASES = Number(process.env.POLICY_DIFF_CASES ?? 1000);
/** Generated clusters per CIB (one crm_simulate run): its start-up, not the planning, dominates. */
const BATCH = Number(process.env.POLICY_DIFF_BATCH ?? 8);
const BATCH_NOW = Date.UTC(2024, 0, 1, 12);
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
  // Fencing must agree like placement (see Note [Fencing]).
  const ourFencing = ours.fencing.map((f) => `${f.node}:${f.action}`).sort().join(',');
  if (pm.fencing.join(',') !== ourFencing) placementDiffs.push(`fencing: crm_simulate=[${pm.fencing.join(',')}] nephele=[${ourFencing}]`);
  // Clone instances are compared as the set of nodes their clone runs on (instance numbers are
  // Pacemaker's bookkeeping), and without scores (crm_simulate shows an instance's scores as they
  // were at its assignment attempt).
  const cloneOf = new Map((input.spec.clones ?? []).flatMap((c) => c.instances.map((i) => [i, c] as const)));
  for (const c of input.spec.clones ?? []) {
    const base = c.instances[0]!.replace(/:\d+$/, '');
    const a = (pm.cloneNodes[base] ?? []).join(',');
    const b = c.instances.map((i) => ours.placement[i]).filter((n): n is string => n !== null && n !== undefined).sort().join(',');
    if (a !== b) placementDiffs.push(`${c.id}: crm_simulate=[${a}] nephele=[${b}]`);
  }
  for (const r of input.spec.resources) {
    if (cloneOf.has(r.id)) continue;
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
  // Instances are compared per clone (see above).
  for (const set of [theirs, mine]) for (const x of [...set]) if (/:\d+$/.test(x)) set.delete(x);
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

/**
 * Several generated clusters side by side in one CIB, each kept to its own nodes by −INFINITY
 * locations on every other cluster's nodes: a resource never scores ≥ 0 on a foreign node, so
 * each cluster is placed as it would be alone (node and resource names keep their order under a
 * common prefix). Used to pay crm_simulate's start-up once for several cases.
 */
function combineClusters(gs: GeneratedCluster[]): GeneratedCluster {
  const pre = (k: number, s: string): string => `c${k}-${s}`;
  const nodes = gs.flatMap((g, k) => g.spec.nodes.map((n) => ({ ...n, name: pre(k, n.name) })));
  const resources = gs.flatMap((g, k) => g.spec.resources.map((r) => ({ ...r, id: pre(k, r.id) })));
  const locations: LocationConstraint[] = gs.flatMap((g, k) => (g.spec.locations ?? []).map((l) => ({ ...l, id: pre(k, l.id), resource: pre(k, l.resource), node: pre(k, l.node) })));
  gs.forEach((g, k) => {
    // A clone is isolated as one (a location never names an instance).
    const units = new Set(g.spec.resources.map((r) => (g.spec.clones ?? []).find((c) => c.instances.includes(r.id))?.id ?? r.id));
    for (const id of units) {
      gs.forEach((h, j) => {
        if (j !== k) for (const n of h.spec.nodes) locations.push({ id: `iso-${pre(k, id)}-${pre(j, n.name)}`, resource: pre(k, id), node: pre(j, n.name), score: -INFINITY });
      });
    }
  });
  const colocations = gs.flatMap((g, k) => (g.spec.colocations ?? []).map((c) => ({ ...c, id: pre(k, c.id), resource: pre(k, c.resource), withResource: pre(k, c.withResource) })));
  const orders = gs.flatMap((g, k) => (g.spec.orders ?? []).map((o) => ({ ...o, id: pre(k, o.id), first: pre(k, o.first), then: pre(k, o.then) })));
  const groups = gs.flatMap((g, k) => (g.spec.groups ?? []).map((x) => ({ ...x, id: pre(k, x.id), members: x.members.map((m) => pre(k, m)) })));
  const clones = gs.flatMap((g, k) => (g.spec.clones ?? []).map((x) => ({ ...x, id: pre(k, x.id), instances: x.instances.map((m) => pre(k, m)) })));
  // One set of defaults for the whole CIB: the first cluster's.
  const defaults = gs[0]!.spec.defaults ?? {};
  const online: Record<string, boolean> = {};
  const unclean: Record<string, string> = {};
  const running: GeneratedCluster['state']['resources'] = {};
  gs.forEach((g, k) => {
    for (const [n, up] of Object.entries(g.state.online)) online[pre(k, n)] = up;
    for (const [n, why] of Object.entries(g.state.unclean ?? {})) unclean[pre(k, n)] = why;
    for (const [r, o] of Object.entries(g.state.resources)) if (o) (running as Record<string, unknown>)[pre(k, r)] = { ...o, node: pre(k, o.node) };
  });
  // Fencing is CIB-wide: on when any cluster has it (each of those brings its device), with the
  // first such cluster's action; the clusters without it then only have cleanly offline nodes.
  const fencing = gs.find((g) => g.spec.fencing)?.spec.fencing;
  // One placement-strategy for the whole CIB: the first cluster's that has one.
  const strategy = gs.find((g) => g.spec.utilization)?.spec.utilization?.strategy;
  const utilization = strategy && {
    strategy,
    capacity: Object.fromEntries(gs.flatMap((g, k) => Object.entries(g.spec.utilization?.capacity ?? {}).map(([n, c]) => [pre(k, n), c]))),
    use: Object.fromEntries(gs.flatMap((g, k) => Object.entries(g.spec.utilization?.use ?? {}).map(([r, u]) => [pre(k, r), u]))),
  };
  // Opt-in when any cluster is; without quorum as the first cluster without it, unless fencing is on.
  const optIn = gs.some((g) => g.spec.symmetricCluster === false) ? { symmetricCluster: false } : {};
  const noQuorum = fencing ? undefined : gs.find((g) => g.spec.noQuorum)?.spec.noQuorum;
  return {
    seed: gs[0]!.seed,
    spec: { nodes, resources, locations, colocations, orders, defaults, groups, clones, ...(fencing ? { fencing } : {}), ...(utilization ? { utilization } : {}), ...optIn, ...(noQuorum ? { noQuorum } : {}) },
    state: { online, resources: running, ...(Object.keys(unclean).length > 0 ? { unclean } : {}) },
    fencingDevices: gs.flatMap((g, k) => g.fencingDevices.map((d) => pre(k, d))),
    history: gs.flatMap((g, k) => g.history.map((f) => ({ ...f, resource: pre(k, f.resource), node: pre(k, f.node) }))),
    now: gs[0]!.now,
    extraNodeAttributes: gs.flatMap((g, k) =>
      g.extraNodeAttributes.map((a) => ({ node: pre(k, a.node), name: a.name.replace(/^(fail-count|last-failure)-/, `$1-c${k}-`), value: a.value })),
    ),
    ruleLocations: gs.flatMap((g, k) =>
      g.ruleLocations.map((l) => ({
        ...l,
        id: pre(k, l.id),
        resource: pre(k, l.resource),
        expressions: l.expressions.map((e) => (e.attribute === '#uname' && e.value !== undefined ? { ...e, value: pre(k, e.value) } : e)),
      })),
    ),
    tickets: gs.flatMap((g, k) => g.tickets.map((t) => ({ ...t, id: pre(k, t.id), resource: pre(k, t.resource), ticket: pre(k, t.ticket) }))),
    ticketStates: Object.fromEntries(gs.flatMap((g, k) => Object.entries(g.ticketStates).map(([t, st]) => [pre(k, t), st]))),
  };
}

describe('plan() against crm_simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nephele-policy-diff-'));

  it(`places ${CASES} generated clusters exactly as Pacemaker does`, async () => {
    const seeds = Array.from({ length: CASES }, (_, i) => FIRST_SEED + i);
    const batches: number[][] = [];
    for (let i = 0; i < seeds.length; i += BATCH) batches.push(seeds.slice(i, i + BATCH));
    const outcomes = await mapLimit(batches, 2, (batch) => {
      let gs = batch.map((seed) => generateCluster(seed, { now: BATCH_NOW }));
      // The CIB has one placement-strategy, and the reader refuses it beside clones: a batch with
      // utilization is drawn without clones (they come from their own stream: the rest is unchanged).
      if (gs.some((x) => x.spec.utilization)) gs = batch.map((seed) => generateCluster(seed, { now: BATCH_NOW, cloneChance: 0 }));
      const g = combineClusters(gs);
      const name = `seeds-${batch[0]}-${batch[batch.length - 1]}`;
      const options = { now: g.now, extraNodeAttributes: g.extraNodeAttributes, ruleLocations: g.ruleLocations, tickets: g.tickets, ticketStates: g.ticketStates, fencingDevices: g.fencingDevices };
      return compare(name, writeCib(g.spec, g.state, g.history, options), dir);
    });
    const failures = outcomes.filter((o) => o.placementDiffs.length > 0 || o.scoreDiffs.length > 0);
    const resources = outcomes.reduce((n, o) => n + (readCib(o.xml).spec.resources.length), 0);
    const actionDiffs = outcomes.filter((o) => o.actionDiffs.length > 0);
    console.log(
      `differential: ${CASES} generated clusters in ${outcomes.length} CIBs (${BATCH} isolated clusters each), ${resources} resources compared, ` +
        `${failures.length} CIBs with placement/score disagreements, ${outcomes.length - actionDiffs.length} identical action summaries` +
        (actionDiffs.length > 0 ? ` (differing: ${actionDiffs.slice(0, 3).map((o) => `${o.name} ${o.actionDiffs.join(', ')}`).join('; ')})` : ''),
    );
    if (failures.length > 0) throw new Error(report(failures));
    // crm_simulate's start-up dominates (≈0.3 s a CIB on an idle 2-core machine, several times
    // that when the machine is shared): the bound is generous, the figure is in the log line.
  }, 1_800_000);

  it('agrees on every saved regression CIB', async () => {
    const files = existsSync(REGRESSIONS) ? readdirSync(REGRESSIONS).filter((f) => f.endsWith('.xml')) : [];
    const outcomes = await mapLimit(files, 2, (f) =>
      compare(`regression-${f.replace(/\.xml$/, '')}`, readFileSync(join(REGRESSIONS, f), 'utf8'), dir),
    );
    const failures = outcomes.filter((o) => o.placementDiffs.length > 0 || o.scoreDiffs.length > 0);
    if (failures.length > 0) throw new Error(report(failures));
  }, 600_000);
});
