// `npm run --silent policy:simulate -- <cib.xml> [--now <ISO date>]`: plans a Pacemaker CIB with
// Nephele's policy engine and prints {"placement": {...}, "actions": [...]} as JSON.
// `now` is the CIB's execution-date if it has one (as crm_simulate does), else --now, else the clock.
import { readFileSync } from 'fs';
import { plan, readCib } from '@nephele/policy';

function main(argv: string[]): number {
  const args = argv.slice(2);
  const nowIdx = args.indexOf('--now');
  const nowArg = nowIdx >= 0 ? args.splice(nowIdx, 2)[1] : undefined;
  const lenient = args.includes('--lenient');
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: npm run --silent policy:simulate -- <cib.xml> [--now <ISO date>] [--lenient]');
    return 2;
  }
  const input = readCib(readFileSync(file, 'utf8'), { lenient });
  const now = nowArg !== undefined ? Date.parse(nowArg) : (input.now ?? Date.now());
  if (Number.isNaN(now)) {
    console.error(`invalid --now: ${nowArg}`);
    return 2;
  }
  const result = plan(input.spec, input.state, input.history, now);
  const actions = result.actions.map((a) => {
    switch (a.kind) {
      case 'move':
        return { action: a.kind, resource: a.resource, node: a.node, from: a.from };
      case 'start':
      case 'stop':
      case 'restart':
        return { action: a.kind, resource: a.resource, node: a.node };
      case 'replace-assembly':
      case 'mark-failed':
        return { action: a.kind, resource: null, node: a.node };
    }
  });
  process.stdout.write(`${JSON.stringify({ placement: result.placement, actions })}\n`);
  for (const w of input.ignored) console.error(`ignored: ${w}`);
  return 0;
}

try {
  process.exitCode = main(process.argv);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}
