// `npm run test:chaos`: the fault-injection scenario of tools/chaos (every service a process, faults one at
// a time under load, invariants at the end). Profile: `CHAOS_PROFILE=short|long` (default short), or as
// the first argument (`npm run test:chaos -- long`). It restarts the machine's RabbitMQ and PostgreSQL:
// run it alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const profile = process.argv[2] ?? process.env.CHAOS_PROFILE ?? 'short';
if (!['short', 'long'].includes(profile)) {
  console.error(`usage: node tools/chaos/run.mjs [short|long]  (got ${profile})`);
  process.exit(2);
}
const r = spawnSync('npx', ['jest', '-c', 'tools/chaos/jest.e2e.config.js'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHAOS_PROFILE: profile, TZ: 'UTC' },
});
process.exit(r.status ?? 1);
