// `npm run bench [-- name ...]`: runs each benchmark in its own process and prints one table:
// figure, the baseline measured in the same run, the ratio and the target. Results are also
// written as JSON under bench/results/ (ignored by git).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const available = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const order = ['event-log', 'policy', 'tracker', 'heartbeats', 'scaler', 'scaler-target'];
// Run only when named (`npm run bench -- vm`: real VMs, minutes under software emulation), with
// their own timeout in minutes.
const onlyWhenAsked = { vm: 45 };
// `npm run bench -- long [name ...]`: the long profile (e.g. the tracker's 1,000,000 instances);
// the default profile stays small. Benchmarks read BENCH_PROFILE.
const args = process.argv.slice(2).filter((a) => a !== '--');
const long = args.includes('long');
const asked = args.filter((a) => a !== 'long');
const names = asked.length
  ? asked
  : [...order.filter((n) => available.includes(n)), ...available.filter((n) => !order.includes(n))].filter(
      (n) => !(n in onlyWhenAsked),
    );

const rows = [];
const failures = [];
for (const name of names) {
  if (!available.includes(name)) {
    failures.push(`${name}: no bench/${name}.bench.ts (have: ${available.join(', ')})`);
    continue;
  }
  console.error(`--- ${name}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', 'tools/ts-run.js', 'bench/run-one.ts', name], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', ...(long ? { BENCH_PROFILE: 'long' } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: (onlyWhenAsked[name] ?? (long ? 30 : 5)) * 60_000,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH_ROWS '));
  if (r.status !== 0 || !line) {
    failures.push(`${name}: exited ${r.status ?? r.signal}`);
    process.stderr.write(r.stdout ?? '');
    continue;
  }
  rows.push(...JSON.parse(line.slice('BENCH_ROWS '.length)));
  console.error(`    ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const fmt = (v) =>
  v === undefined || v === null
    ? ''
    : typeof v === 'number'
      ? Math.abs(v) >= 100
        ? v.toFixed(0)
        : v.toPrecision(3)
      : String(v);
const table = rows.map((r) => [
  r.benchmark,
  r.figure,
  `${fmt(r.value)} ${r.unit}`,
  r.baseline ? `${r.baseline}: ${fmt(r.baselineValue)}` : '',
  fmt(r.ratio),
  r.target ?? '',
  r.met === undefined ? '' : r.met ? 'yes' : 'NO',
]);
const head = ['benchmark', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', 'met'];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const out = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(out(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const t of table) console.log(out(t));
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, 'bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), rows, failures }, null, 2));
console.log(`\nresults: ${path.relative(root, file)}`);
if (failures.length) {
  console.error(`failed: \n  ${failures.join('\n  ')}`);
  process.exit(1);
}
