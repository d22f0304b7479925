// `npm test`: every check and every test tier, in the order that fails fastest.
//   typecheck → lint beside unit (one is single-threaded ESLint, the other two Jest workers)
//   → build → integration (real PostgreSQL/RabbitMQ) → E2E (processes, two projects at a time,
//   longest first)
//   → chaos (the short fault-injection profile; it restarts RabbitMQ and PostgreSQL, so it runs last)
// Pass tiers to run only some: `npm test -- unit int`.
//
// Lint is one ESLint process over the repository rather than one per Nx project: with type-aware
// rules every process builds its own TypeScript program of most of the repository: 30 processes
// took 674 CPU-seconds, one takes 97 (measured in one run on this machine). The Nx project graph is computed
// first: @nx/enforce-module-boundaries reads the cached graph and silently skips itself without it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
    'npx nx show projects >/dev/null && npx eslint . --max-warnings 0 && node tools/ts-run.js tools/docs/src/check.ts && node tools/ts-run.js tools/arch/openapi-gaps.ts --check && node tools/ts-run.js tools/arch/measure.ts --check',
  ],
  unit: nx(['test'], 2),
  build: nx(['build'], 2),
  int: nx(['test-int'], 2),
  e2e: 'e2e-lanes',
  chaos: ['node', 'tools/chaos/run.mjs', 'short'],
};
// E2E: every project's `e2e` command (its project.json), two projects at a time, longest first.
// E2E tests mostly wait (processes starting, monitors, intervals), so two lanes on two cores take
// about half the time of one; files of one project stay one after another (maxWorkers 1). nx's own
// run-many starts projects in graph order, which left the longest (security-check) to run alone at
// the end. Durations in seconds, measured one after another on this machine under load 10-20;
// projects not listed run last.
const e2eSeconds = {
  'security-check': 512,
  'cloud-policy-engine': 331,
  cli: 207,
  docs: 173,
  scaler: 120,
  'iaas-gateway': 105,
  console: 67,
  'config-api': 29,
  'feed-poller': 26,
  'event-log': 14,
};
/** [name, command] of every project with an `e2e` target, longest first. */
function e2eProjects() {
  const found = [];
  for (const dir of ['apps', 'tools']) {
    for (const name of readdirSync(path.join(root, dir))) {
      const file = path.join(root, dir, name, 'project.json');
      if (!existsSync(file)) continue;
      const project = JSON.parse(readFileSync(file, 'utf8'));
      const command = project.targets?.e2e?.options?.command;
      if (command) found.push([project.name ?? name, command]);
    }
  }
  return found.sort(([a], [b]) => (e2eSeconds[b] ?? 0) - (e2eSeconds[a] ?? 0) || a.localeCompare(b));
}
/** Runs the E2E projects in two lanes; resolves with the first failing exit code, or 0. */
async function e2eLanes() {
  const queue = e2eProjects();
  const failed = [];
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [name, command] = next;
      const t0 = Date.now();
      // Output is collected per project and printed whole, so two lanes do not interleave lines.
      const child = spawn('sh', ['-c', `npx ${command}`], { cwd: root, env: { ...env, NEPHELE_E2E_PREBUILT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`\n> e2e ${name}: ${command}\n${out}> e2e ${name}: ${code === 0 ? 'ok' : 'FAILED'} in ${secs} s`);
      if (code !== 0) failed.push(name);
    }
  };
  await Promise.all([lane(), lane()]);
  if (failed.length) console.log(`e2e failed: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}
const run = (t) =>
  new Promise((resolve) => {
    const cmd = steps[t];
    if (cmd === 'e2e-lanes') {
      const t0 = Date.now();
      console.log('\n=== e2e: two lanes, longest project first');
      // The services' dist builds are E2E's inputs: build them first when the build tier is not asked.
      const built = tiers.includes('build') ? Promise.resolve(0) : run('build');
      return built.then((b) => (b === 0 ? e2eLanes() : b)).then((code) => {
        console.log(`=== e2e: ${code === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        resolve(code);
      });
    }
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
