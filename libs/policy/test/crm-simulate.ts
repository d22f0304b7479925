// Runs Pacemaker's scheduler (crm_simulate) on a CIB and reads its XML output. Test-only I/O.
import { execFile } from 'child_process';
import { XMLParser } from 'fast-xml-parser';
import { parseScore } from '../src';

export const CRM_SIMULATE = process.env.CRM_SIMULATE ?? 'crm_simulate';

export interface PacemakerResult {
  placement: Record<string, string | null>;
  scores: Record<string, Record<string, number>>;
  /** Actions crm_simulate will carry out (blocked ones are left out). */
  actions: Array<{ action: string; resource: string; node?: string; from?: string; reason?: string }>;
  /** Nodes the transition fences, as sorted `node:action`. */
  fencing: string[];
  /** Sorted nodes where each anonymous clone's primitive runs (by primitive id). */
  cloneNodes: Record<string, string[]>;
}

type X = Record<string, unknown>;
const arr = (v: unknown): X[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? (v as X[]) : [v as X]);

export function runCrmSimulate(file: string, nowIso: string): Promise<PacemakerResult> {
  return new Promise((resolve, reject) => {
    execFile(
      CRM_SIMULATE,
      ['-x', file, '-S', '-s', '--output-as=xml', '-t', nowIso],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PCMK_debug: 'no' } },
      (err, stdout, stderr) => {
        if (err && !stdout) return reject(new Error(`crm_simulate failed: ${err.message} ${stderr}`));
        try {
          resolve(parseCrmSimulateXml(stdout));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    );
  });
}

export function parseCrmSimulateXml(xml: string): PacemakerResult {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as X;
  const res = doc['pacemaker-result'] as X;
  if (!res) throw new Error(`unexpected crm_simulate output: ${xml.slice(0, 500)}`);
  // A node where the transition's last start/stop of a resource was a stop does not run it, even
  // though crm_simulate then ran the recurring monitor Pacemaker 2.1.5 reschedules on the old
  // node after an expired failure (see tools/policy-conformance/crm-simulate-output.ts).
  const lastOp = new Map<string, string>();
  for (const a of arr((res['transition'] as X | undefined)?.['rsc_action'])) {
    const op = String(a['op']);
    if (op === 'stop' || op === 'start') lastOp.set(`${String(a['resource'])}@${String(a['node'])}`, op);
  }
  const placement: Record<string, string | null> = {};
  const revised = res['revised_cluster_status'] as X | undefined;
  const before = res['cluster_status'] as X | undefined;
  const status = revised ?? before;
  // Group members are listed inside their group, clone instances inside their clone.
  const resources = status?.['resources'] as X | undefined;
  // Clone instances (`rsc:N`) inside their clone.
  const listed = [...arr(resources?.['resource']), ...arr(resources?.['group']).flatMap((g) => arr(g['resource']))];
  // Anonymous clone instances are listed by their primitive's id: the nodes they run on.
  const cloneNodes: Record<string, string[]> = {};
  for (const r of arr(resources?.['clone']).flatMap((c) => arr(c['resource']))) {
    const id = String(r['id']).replace(/:\d+$/, '');
    const list = (cloneNodes[id] ??= []);
    const nodes = arr(r['node']).map((n) => String(n['name']));
    if (r['role'] === 'Started') for (const n of nodes) if (![...lastOp].some(([k, op]) => op === 'stop' && k.replace(/:\d+@/, '@') === `${id}@${n}`)) list.push(n);
  }
  for (const list of Object.values(cloneNodes)) list.sort();
  for (const r of listed) {
    const id = String(r['id']);
    const nodes = arr(r['node']).map((n) => String(n['name'])).filter((n) => lastOp.get(`${id}@${n}`) !== 'stop');
    placement[id] = r['role'] === 'Started' && nodes.length > 0 ? nodes[0]! : null;
  }
  const scores: Record<string, Record<string, number>> = {};
  for (const w of arr((res['allocations'] as X | undefined)?.['node_weight'])) {
    const id = String(w['id']);
    (scores[id] ??= {})[String(w['node'])] = parseScore(String(w['score'])) ?? NaN;
  }
  const actions: PacemakerResult['actions'] = [];
  for (const a of arr((res['actions'] as X | undefined)?.['rsc_action'])) {
    if (a['blocked'] === 'true') continue;
    const action = String(a['action']);
    const entry: PacemakerResult['actions'][number] = { action, resource: String(a['resource']) };
    if (a['dest'] !== undefined) {
      entry.from = String(a['source']);
      entry.node = String(a['dest']);
    } else if (a['node'] !== undefined) entry.node = String(a['node']);
    else if (a['source'] !== undefined) entry.node = String(a['source']);
    if (a['reason'] !== undefined) entry.reason = String(a['reason']);
    actions.push(entry);
  }
  const fencing = arr((res['transition'] as X | undefined)?.['fencing_action']).map((f) => `${String(f['target'])}:${String(f['op'])}`).sort();
  return { placement, scores, actions, fencing, cloneNodes };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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
