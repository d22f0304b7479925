// `npm test`: every check and every test tier, in the order that fails fastest.
//   typecheck → lint + unit (parallel) → build → integration (real PostgreSQL/RabbitMQ) → E2E (processes)
//   → chaos (the short fault-injection profile; it restarts RabbitMQ and PostgreSQL, so it runs last)
// Pass tiers to run only some: `npm test -- unit int`.
import { spawnSync } from 'node:child_process';

const all = ['typecheck', 'lint', 'unit', 'build', 'int', 'e2e', 'chaos'];
const asked = process.argv.slice(2);
const tiers = asked.length ? asked : all;
const env = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  TZ: 'UTC',
  FORCE_COLOR: '0',
};
const nx = (targets, parallel) => [
  'npx',
  'nx',
  'run-many',
  '-t',
  ...targets,
  `--parallel=${parallel}`,
  '--outputStyle=static',
  '--skipNxCache',
];
const steps = {
  typecheck: ['npx', 'tsc', '-p', 'tsconfig.json', '--noEmit'],
  lint: nx(['lint'], 2),
  unit: nx(['test'], 2),
  build: nx(['build'], 2),
  int: nx(['test-int'], 2),
  e2e: nx(['e2e'], 1),
  chaos: ['node', 'tools/chaos/run.mjs', 'short'],
};
const started = Date.now();
for (const t of tiers) {
  const cmd = steps[t];
  if (!cmd) {
    console.error(`unknown tier ${t}; tiers: ${all.join(', ')}`);
    process.exit(2);
  }
  const t0 = Date.now();
  console.log(`\n=== ${t}: ${cmd.join(' ')}`);
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit', env });
  console.log(`=== ${t}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`\nall green in ${((Date.now() - started) / 1000).toFixed(1)} s`);
