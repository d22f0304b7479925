// Policy engine benchmark (issue 4): `node tools/ts-run.js bench/policy.bench.ts` prints the rows.
// 1. One CIB of 100 nodes × 1,000 resources with constraints, planned by crm_simulate (-R, probes
//    off) and by Nephele (readCib + plan) in the same run: ratio = crm_simulate time / Nephele time.
// 2. p99 of planDeployable() on a deployable of 10 assemblies × 50 services (and 50 per assembly).
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  DeployableConstraint,
  DeployableFailureHistory,
  DeployableObservedState,
  DeployableServiceSpec,
  DeployableSpec,
  createPrng,
  generateCluster,
  plan,
  planDeployable,
  readCib,
  writeCib,
} from '@nephele/policy';
import type { BenchRow } from './bench.types';

const CRM_SIMULATE = process.env.CRM_SIMULATE ?? 'crm_simulate';

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function percentile(xs: number[], p: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function clusterRows(): BenchRow[] {
  const g = generateCluster(20240101, {
    nodes: [100, 100],
    resources: [1000, 1000],
    locationsPerResource: 0.5,
    colocationsPerResource: 0.3,
    ordersPerResource: 0.3,
    // Groups and anonymous clones as the generator draws them; no fencing or utilization (they
    // would change what is measured, not add to it).
    fencingChance: 0,
    utilizationChance: 0,
    cloneChance: 0.01,
  });
  const xml = writeCib(g.spec, g.state, g.history, { now: g.now, disableProbes: true, extraNodeAttributes: g.extraNodeAttributes });
  const dir = mkdtempSync(join(tmpdir(), 'nephele-policy-bench-'));
  const file = join(dir, 'cib.xml');
  writeFileSync(file, xml);
  const when = new Date(g.now).toISOString().replace('.000Z', 'Z');
  try {
    const pacemaker: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = process.hrtime.bigint();
      execFileSync(CRM_SIMULATE, ['-x', file, '-R', '--output-as=xml', '-t', when], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
      pacemaker.push(ms(t));
    }
    const nephele: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t = process.hrtime.bigint();
      const input = readCib(xml);
      plan(input.spec, input.state, input.history, g.now);
      nephele.push(ms(t));
    }
    const ours = median(nephele.slice(2)); // first runs warm the JIT
    const theirs = median(pacemaker);
    const ratio = theirs / ours;
    const running = Object.values(g.state.resources).filter((o) => o !== undefined).length;
    const failed = Object.values(g.state.resources).filter((o) => o?.failed).length;
    const size =
      `${g.spec.nodes.length} nodes × ${g.spec.resources.length} primitives ` +
      `(${g.spec.groups?.length ?? 0} groups of ${(g.spec.groups ?? []).reduce((n, x) => n + x.members.length, 0)}, ` +
      `${g.spec.clones?.length ?? 0} anonymous clones of ${(g.spec.clones ?? []).reduce((n, x) => n + x.instances.length, 0)} instances), ` +
      `${g.spec.locations?.length} locations, ${g.spec.colocations?.length} colocations, ${g.spec.orders?.length} orders, ` +
      `${running} running (${failed} failed), ${g.history.length + g.extraNodeAttributes.length} fail-count attributes; ` +
      `startup probes off, crm_simulate -R (scheduler only, no transition simulated)`;
    return [
      { benchmark: 'policy', figure: `crm_simulate -R on one CIB (${size}), median of ${pacemaker.length}`, value: round(theirs), unit: 'ms' },
      {
        benchmark: 'policy',
        figure: 'Nephele readCib + plan on the same CIB, median; ratio = crm_simulate ms / Nephele ms',
        value: round(ours),
        unit: 'ms',
        baseline: 'crm_simulate -R',
        baselineValue: round(theirs),
        ratio: round(ratio),
        target: '>= 20x faster',
        met: ratio >= 20,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A deployable with some failures, so that every rung of the ladder is exercised. */
export function deployable(assemblies: number, services: number, seed: number): { spec: DeployableSpec; observed: DeployableObservedState; history: DeployableFailureHistory; now: number } {
  const rnd = createPrng(seed);
  const now = Date.UTC(2024, 0, 1, 12);
  const names = Array.from({ length: assemblies }, (_, i) => `asm${i + 1}`);
  const svcs: DeployableServiceSpec[] = [];
  const observed: DeployableObservedState = { assemblies: {}, services: {} };
  const history: { services: Record<string, { at: number; assembly: string }[]>; assemblies: Record<string, number[]> } = { services: {}, assemblies: {} };
  const obsAssemblies = observed.assemblies as Record<string, DeployableObservedState['assemblies'][string]>;
  const obsServices = observed.services as Record<string, DeployableObservedState['services'][string]>;
  for (const a of names) obsAssemblies[a] = { state: rnd.chance(0.1) ? 'failed' : 'online' };
  for (let i = 0; i < services; i++) {
    const home = names[i % assemblies]!;
    const id = `${home}/svc${i + 1}`;
    const allowed = rnd.chance(0.5) ? [home, rnd.pick(names), rnd.pick(names)] : [home];
    svcs.push({ id, assembly: home, allowedAssemblies: [...new Set(allowed)], escalation: { failures: 3, periodMs: 60_000 }, priority: rnd.int(0, 2) });
    const failed = rnd.chance(0.1);
    obsServices[id] = { state: failed ? 'failed' : 'running', assembly: home };
    if (failed) history.services[id] = Array.from({ length: rnd.int(1, 4) }, () => ({ at: now - rnd.int(0, 50) * 1000, assembly: home }));
  }
  const constraints: DeployableConstraint[] = [];
  for (let i = 0; i < services / 2; i++) {
    const x = rnd.int(0, services - 2);
    const y = rnd.int(x + 1, services - 1);
    if (rnd.chance(0.5)) constraints.push({ kind: 'order', first: svcs[x]!.id, then: svcs[y]!.id });
    else constraints.push({ kind: 'colocation', service: svcs[y]!.id, with: svcs[x]!.id, score: rnd.pick([-100, 50, 1_000_000, -1_000_000]) });
  }
  const spec: DeployableSpec = { name: 'bench', assemblies: names.map((name) => ({ name, escalation: { failures: 3, periodMs: 600_000 } })), services: svcs, constraints };
  return { spec, observed, history, now };
}

function deployableRow(assemblies: number, services: number, label: string, targetMs: number): BenchRow {
  const d = deployable(assemblies, services, 7);
  for (let i = 0; i < 200; i++) planDeployable(d.spec, d.observed, d.history, d.now);
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = process.hrtime.bigint();
    planDeployable(d.spec, d.observed, d.history, d.now);
    times.push(ms(t));
  }
  const p99 = percentile(times, 99);
  return { benchmark: 'policy', figure: `planDeployable p99, ${label} (2000 runs)`, value: round(p99, 3), unit: 'ms', target: `<= ${targetMs} ms`, met: p99 <= targetMs };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// Deployables first: the large CIB leaves garbage whose collection would land in their p99.
const run = async (): Promise<BenchRow[]> => {
  const small = deployableRow(10, 50, '10 assemblies × 50 services', 5);
  const large = deployableRow(10, 500, '10 assemblies × 50 services each (500)', 10);
  return [...clusterRows(), small, large];
};

export default run;

// Standalone: `node bench/…` (require.main) or `node tools/ts-run.js bench/policy.bench.ts`
// (ts-run sets argv[1] to this file).
if (require.main === module || process.argv[1] === __filename) {
  run()
    .then((rows) => console.log(JSON.stringify(rows, null, 2)))
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
