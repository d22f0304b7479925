// `npm run --silent policy:simulate -- <cib.xml or dir>… [--now <ISO date>] [--lenient]`: plans
// Pacemaker CIBs with Nephele's policy engine, all in one process, and prints one JSON line per
// file: {"file", "placement", "actions"[, "fencing"]} or {"file", "error"} (a CibError names the construct
// outside the supported subset). A directory stands for its *.xml files, in name order.
// `now` is the CIB's execution-date if it has one (as crm_simulate does), else --now, else the clock.
// Exit status: 0 when every file was planned, 1 when at least one was refused, 2 on bad usage.
import { readdirSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { CibError, PolicyAction, plan, readCib } from '@nephele/policy';

/** The files named by the arguments: files as given, directories as their *.xml files. */
export function expandCibPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).filter((x) => x.endsWith('.xml')).sort()) out.push(join(p, f));
    } else out.push(p);
  }
  return out;
}

/** One action as printed (the shape the differential compares with crm_simulate). */
export function summariseAction(a: PolicyAction): { action: string; resource: string | null; node: string; from?: string } {
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
}

/** What `policy:simulate` prints for one file. */
export type SimulateLine =
  | { file: string; placement: Record<string, string | null>; actions: ReturnType<typeof summariseAction>[]; fencing?: string[]; ignored?: string[] }
  | { file: string; error: string };

/** Plans one CIB file; never throws for a bad CIB (the error is in the line). */
export function simulateFile(file: string, options: { now?: number; lenient?: boolean } = {}): SimulateLine {
  try {
    const fallback = options.now ?? Date.now();
    const input = readCib(readFileSync(file, 'utf8'), { lenient: options.lenient ?? false, now: fallback });
    const now = options.now ?? input.now ?? fallback;
    const result = plan(input.spec, input.state, input.history, now);
    const line: SimulateLine = { file, placement: result.placement, actions: result.actions.map(summariseAction) };
    // Nodes fenced first, as `node:action` (only when there are any).
    if (result.fencing.length > 0) line.fencing = result.fencing.map((f) => `${f.node}:${f.action}`);
    if (input.ignored.length > 0) line.ignored = input.ignored;
    return line;
  } catch (e) {
    if (e instanceof CibError) return { file, error: e.message };
    if (e instanceof Error && 'code' in e) return { file, error: e.message }; // unreadable file
    throw e;
  }
}

function main(argv: string[]): number {
  const args = argv.slice(2);
  const nowIdx = args.indexOf('--now');
  const nowArg = nowIdx >= 0 ? args.splice(nowIdx, 2)[1] : undefined;
  const lenient = args.includes('--lenient');
  const paths = args.filter((a) => !a.startsWith('--'));
  if (paths.length === 0) {
    console.error('usage: npm run --silent policy:simulate -- <cib.xml or dir>… [--now <ISO date>] [--lenient]');
    return 2;
  }
  const now = nowArg !== undefined ? Date.parse(nowArg) : undefined;
  if (now !== undefined && Number.isNaN(now)) {
    console.error(`invalid --now: ${nowArg}`);
    return 2;
  }
  let files: string[];
  try {
    files = expandCibPaths(paths);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let refused = 0;
  for (const file of files) {
    const line = simulateFile(file, now !== undefined ? { now, lenient } : { lenient });
    if ('error' in line) refused++;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return refused > 0 ? 1 : 0;
}

if (process.argv[1] === __filename) {
  try {
    process.exitCode = main(process.argv);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 1;
  }
}
