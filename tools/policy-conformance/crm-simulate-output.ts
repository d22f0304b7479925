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

/** Instances of globally-unique clones: where each is active, by its own id. */
type UniqueInstances = Map<string, string[]>;

function collect(el: X, out: NormalisedPlacement, unique: UniqueInstances, inUnique = false): void {
  for (const r of arr(el['resource'])) {
    const id = baseId(String(r['id']));
    const list = out.get(id) ?? [];
    const nodes = ACTIVE_ROLES.has(String(r['role'])) ? arr(r['node']).map((n) => String(n['name'])) : [];
    list.push(...nodes);
    out.set(id, list);
    if (inUnique) unique.set(String(r['id']), nodes);
  }
  for (const kind of ['group', 'clone', 'bundle']) for (const sub of arr(el[kind])) collect(sub, out, unique, kind === 'clone' ? String(sub['unique']) === 'true' : inUnique);
  for (const replica of arr(el['replica'])) collect(replica, out, unique, inUnique);
}

/** The revised cluster status of a crm_simulate run (or the initial one if there is none). */
export function parseSimulatedPlacement(xml: string): NormalisedPlacement {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as X;
  const res = doc['pacemaker-result'] as X | undefined;
  if (!res) throw new Error(`unexpected crm_simulate output: ${xml.slice(0, 300)}`);
  const status = (res['revised_cluster_status'] ?? res['cluster_status']) as X | undefined;
  const out: NormalisedPlacement = new Map();
  const resources = status?.['resources'];
  const unique: UniqueInstances = new Map();
  if (resources && typeof resources === 'object') collect(resources as X, out, unique);
  // A node where the transition's last start/stop of a resource was a stop does not run it, even
  // when the simulated transition then ran a monitor there (Pacemaker 2.1.5 reschedules the
  // recurring monitor of an expired failure on the old node, after the stop). The instances of a
  // globally-unique clone are told apart (several may run on one node).
  const last = new Map<string, string>();
  for (const a of arr((res['transition'] as X | undefined)?.['rsc_action'])) {
    const op = String(a['op']);
    const rid = String(a['resource']);
    if (op === 'stop' || op === 'start' || op === 'migrate_from') last.set(`${unique.has(rid) ? rid : baseId(rid)}\u0000${String(a['node'])}`, op);
  }
  for (const [key, op] of last) {
    if (op !== 'stop') continue;
    const [rid, node] = key.split('\u0000') as [string, string];
    if (unique.has(rid) && !unique.get(rid)!.includes(node)) continue;
    const list = out.get(baseId(rid));
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
