// `npm run policy:conformance -- <pacemaker checkout> [--show N] [--json]`: runs Pacemaker's
// scheduler regression corpus (<checkout>/cts/scheduler/xml, or a directory of CIBs) through
// Nephele's strict reader + planner and through the real crm_simulate (at most 2 at a time; set
// CRM_SIMULATE to choose the binary), and prints:
//   accepted  — CIBs Nephele plans (the rest are refused with a CibError naming the construct)
//   identical — accepted CIBs placed exactly as crm_simulate places them, fencing the same nodes
//   divergent — accepted CIBs placed or fenced differently (a silent wrong answer: must be 0)
// plus the first divergent names with their differences and the most common refusal reasons.
// Nothing is cached or written: the corpus stays in the checkout.
import { execFile } from 'child_process';
import { existsSync, readFileSync, statSync } from 'fs';
import { basename, join } from 'path';
import { CibError, plan, readCib } from '@nephele/policy';
import { expandCibPaths } from '../policy-simulate';
import { diffPlacements, normaliseFencing, normalisePlacement, parseSimulatedFencing, parseSimulatedPlacement } from './crm-simulate-output';

const CRM_SIMULATE = process.env.CRM_SIMULATE ?? 'crm_simulate';
const PARALLEL = 2;

interface FileOutcome {
  name: string;
  status: 'refused' | 'identical' | 'divergent' | 'crm_simulate-failed';
  detail?: string;
  diffs?: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function runCrmSimulate(file: string, nowIso: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      CRM_SIMULATE,
      ['-x', file, '-S', '-Q', '--output-as=xml', '-t', nowIso],
      { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PCMK_debug: 'no' }, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err && !stdout.includes('<revised_cluster_status')) return reject(new Error(`${err.message.split('\n')[0]} ${stderr.split('\n')[0]}`));
        resolve(stdout);
      },
    );
  });
}

async function checkOne(file: string, fallbackNow: number): Promise<FileOutcome> {
  const name = basename(file, '.xml');
  let input;
  try {
    input = readCib(readFileSync(file, 'utf8'), { now: fallbackNow });
  } catch (e) {
    if (e instanceof CibError) return { name, status: 'refused', detail: e.message };
    throw e;
  }
  const now = input.now ?? fallbackNow;
  const ours = plan(input.spec, input.state, input.history, now);
  let xml: string;
  try {
    xml = await runCrmSimulate(file, iso(now));
  } catch (e) {
    return { name, status: 'crm_simulate-failed', detail: (e as Error).message };
  }
  const diffs = diffPlacements(parseSimulatedPlacement(xml), normalisePlacement(ours.placement));
  const theirFencing = parseSimulatedFencing(xml).join(',');
  const ourFencing = normaliseFencing(ours.fencing).join(',');
  if (theirFencing !== ourFencing) diffs.push(`fencing: crm_simulate=[${theirFencing}] nephele=[${ourFencing}]`);
  return diffs.length === 0 ? { name, status: 'identical' } : { name, status: 'divergent', diffs };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return results;
}

/** Groups refusal messages by their construct (numbers and ids blurred). */
function reasonKey(detail: string): string {
  return detail
    .replace(/^unsupported CIB construct: /, '')
    .replace(/ (with|in|of) (clone|the primitive of clone) \S+/g, ' $1 $2 …')
    .replace(/ (on|of|for) \S+/g, ' $1 …')
    .replace(/^(rsc_\w+|node) \S+/, '$1 …')
    .replace(/\S+ active on several nodes/, '… active on several nodes');
}

async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  const showIdx = args.indexOf('--show');
  const show = showIdx >= 0 ? Number(args.splice(showIdx, 2)[1]) : 10;
  const json = args.includes('--json');
  const target = args.find((a) => !a.startsWith('--'));
  if (!target) {
    console.error('usage: npm run policy:conformance -- <pacemaker checkout | dir of CIBs | cib.xml…> [--show N] [--json]');
    return 2;
  }
  const corpus = existsSync(join(target, 'cts', 'scheduler', 'xml')) ? join(target, 'cts', 'scheduler', 'xml') : target;
  if (!existsSync(corpus)) {
    console.error(`no such file or directory: ${corpus}`);
    return 2;
  }
  const files = statSync(corpus).isDirectory() ? expandCibPaths([corpus]) : expandCibPaths(args.filter((a) => !a.startsWith('--')));
  const fallbackNow = Math.floor(Date.now() / 1000) * 1000;
  const started = Date.now();
  const outcomes = await mapLimit(files, PARALLEL, (f) => checkOne(f, fallbackNow));
  const count = (s: FileOutcome['status']): number => outcomes.filter((o) => o.status === s).length;
  const accepted = outcomes.length - count('refused');
  const divergent = outcomes.filter((o) => o.status === 'divergent');
  const failed = outcomes.filter((o) => o.status === 'crm_simulate-failed');
  if (json) {
    for (const o of outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
  }
  const reasons = new Map<string, number>();
  for (const o of outcomes) if (o.status === 'refused') reasons.set(reasonKey(o.detail!), (reasons.get(reasonKey(o.detail!)) ?? 0) + 1);
  const lines = [
    `corpus: ${corpus} (${outcomes.length} CIBs, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `accepted:  ${accepted}`,
    `identical: ${count('identical')}`,
    `divergent: ${divergent.length}`,
    `crm_simulate failed on accepted CIBs: ${failed.length}${failed.length > 0 ? ` (${failed.slice(0, 5).map((o) => o.name).join(', ')})` : ''}`,
  ];
  if (divergent.length > 0) {
    lines.push(`first divergent: ${divergent.slice(0, show).map((o) => o.name).join(', ')}`);
    for (const o of divergent.slice(0, show)) lines.push(`  ${o.name}: ${o.diffs!.slice(0, 4).join('; ')}`);
  }
  lines.push('most common refusals:');
  for (const [k, n] of [...reasons].sort((a, b) => b[1] - a[1]).slice(0, show)) lines.push(`  ${String(n).padStart(4)}  ${k}`);
  (json ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
  return divergent.length > 0 ? 1 : 0;
}

main(process.argv).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack : String(e));
    process.exitCode = 1;
  },
);
