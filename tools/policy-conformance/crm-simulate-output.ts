// Reads crm_simulate's XML output (Pacemaker 2.1.5, `--output-as=xml`) into a placement: for
// every primitive (clone and bundle instances folded under the primitive's id), the sorted list
// of nodes where it is active after the simulated transition.
import { XMLParser } from 'fast-xml-parser';

type X = Record<string, unknown>;
const arr = (v: unknown): X[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? (v as X[]) : [v as X]);

/** Roles in which a resource counts as placed on its node. */
const ACTIVE_ROLES = new Set(['Started', 'Slave', 'Master', 'Promoted', 'Unpromoted']);

/** Strips a clone instance suffix (`rsc:2` → `rsc`). */
export function baseId(id: string): string {
  return id.replace(/:\d+$/, '');
}

/** Placement per primitive id: the sorted nodes where it is active (empty = stopped). */
export type NormalisedPlacement = Map<string, string[]>;

function collect(el: X, out: NormalisedPlacement): void {
  for (const r of arr(el['resource'])) {
    const id = baseId(String(r['id']));
    const list = out.get(id) ?? [];
    if (ACTIVE_ROLES.has(String(r['role']))) for (const n of arr(r['node'])) list.push(String(n['name']));
    out.set(id, list);
  }
  for (const kind of ['group', 'clone', 'bundle']) for (const sub of arr(el[kind])) collect(sub, out);
  for (const replica of arr(el['replica'])) collect(replica, out);
}

/** The revised cluster status of a crm_simulate run (or the initial one if there is none). */
export function parseSimulatedPlacement(xml: string): NormalisedPlacement {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as X;
  const res = doc['pacemaker-result'] as X | undefined;
  if (!res) throw new Error(`unexpected crm_simulate output: ${xml.slice(0, 300)}`);
  const status = (res['revised_cluster_status'] ?? res['cluster_status']) as X | undefined;
  const out: NormalisedPlacement = new Map();
  const resources = status?.['resources'];
  if (resources && typeof resources === 'object') collect(resources as X, out);
  // A node where the transition's last start/stop of a resource was a stop does not run it, even
  // when the simulated transition then ran a monitor there (Pacemaker 2.1.5 reschedules the
  // recurring monitor of an expired failure on the old node, after the stop).
  const last = new Map<string, string>();
  for (const a of arr((res['transition'] as X | undefined)?.['rsc_action'])) {
    const op = String(a['op']);
    if (op === 'stop' || op === 'start' || op === 'migrate_from') last.set(`${baseId(String(a['resource']))}\u0000${String(a['node'])}`, op);
  }
  for (const [key, op] of last) {
    if (op !== 'stop') continue;
    const [id, node] = key.split('\u0000') as [string, string];
    const list = out.get(id);
    const i = list?.indexOf(node) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** Nephele's placement (`rsc` or `rsc:N` → node) in the same normal form. */
export function normalisePlacement(placement: Readonly<Record<string, string | null>>): NormalisedPlacement {
  const out: NormalisedPlacement = new Map();
  for (const [id, node] of Object.entries(placement)) {
    const key = baseId(id);
    const list = out.get(key) ?? [];
    if (node !== null) list.push(node);
    out.set(key, list);
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** Differences between two placements, one line each (`rsc: crm_simulate=[..] nephele=[..]`). */
export function diffPlacements(theirs: NormalisedPlacement, ours: NormalisedPlacement): string[] {
  const diffs: string[] = [];
  const keys = new Set([...theirs.keys(), ...ours.keys()]);
  for (const k of [...keys].sort()) {
    const a = (theirs.get(k) ?? []).join(',');
    const b = (ours.get(k) ?? []).join(',');
    if (a !== b) diffs.push(`${k}: crm_simulate=[${a}] nephele=[${b}]`);
  }
  return diffs;
}

/** The nodes crm_simulate's transition fences, as sorted `node:action` entries. */
export function parseSimulatedFencing(xml: string): string[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as X;
  const res = doc['pacemaker-result'] as X | undefined;
  const out = arr((res?.['transition'] as X | undefined)?.['fencing_action']).map((f) => `${String(f['target'])}:${String(f['op'])}`);
  return out.sort();
}

/** Nephele's fencing in the same form. */
export function normaliseFencing(fencing: ReadonlyArray<{ node: string; action: string }>): string[] {
  return fencing.map((f) => `${f.node}:${f.action}`).sort();
}
