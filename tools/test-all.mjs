// `npm test`: every check and every test tier, in the order that fails fastest.
//   typecheck → lint beside unit (one is single-threaded ESLint, the other two Jest workers)
//   → build → integration (real PostgreSQL/RabbitMQ) → E2E (processes)
//   → chaos (the short fault-injection profile; it restarts RabbitMQ and PostgreSQL, so it runs last)
// Pass tiers to run only some: `npm test -- unit int`.
//
// Lint is one ESLint process over the repository rather than one per Nx project: with type-aware
// rules every process builds its own TypeScript program of most of the repository: 30 processes
// took 674 CPU-seconds, one takes 97 (measured in one run on this machine). The Nx project graph is computed
// first: @nx/enforce-module-boundaries reads the cached graph and silently skips itself without it.
import { spawn } from 'node:child_process';

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
  lint: [
    'sh',
    '-c',
    'npx nx show projects >/dev/null && npx eslint . --max-warnings 0 && node tools/ts-run.js tools/docs/src/check.ts && node tools/ts-run.js tools/arch/measure.ts --check',
  ],
  unit: nx(['test'], 2),
  build: nx(['build'], 2),
  int: nx(['test-int'], 2),
  e2e: nx(['e2e'], 1),
  chaos: ['node', 'tools/chaos/run.mjs', 'short'],
};
const run = (t) =>
  new Promise((resolve) => {
    const cmd = steps[t];
    if (!cmd) {
      console.error(`unknown tier ${t}; tiers: ${all.join(', ')}`);
      process.exit(2);
    }
    const t0 = Date.now();
    console.log(`\n=== ${t}: ${cmd.join(' ')}`);
    const child = spawn(cmd[0], cmd.slice(1), { stdio: 'inherit', env });
    child.on('close', (code) => {
      console.log(`=== ${t}: ${code === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      resolve(code ?? 1);
    });
  });
// Tiers that run side by side when both are asked for.
const together = [['lint', 'unit']];
const started = Date.now();
for (let i = 0; i < tiers.length; i++) {
  const pair = together.find(([a, b]) => tiers[i] === a && tiers.indexOf(b) > i);
  const batch = pair ? pair : [tiers[i]];
  if (pair) tiers.splice(tiers.indexOf(pair[1]), 1);
  const codes = await Promise.all(batch.map(run));
  const failed = codes.find((c) => c !== 0);
  if (failed !== undefined) process.exit(failed);
}
console.log(`\nall green in ${((Date.now() - started) / 1000).toFixed(1)} s`);
