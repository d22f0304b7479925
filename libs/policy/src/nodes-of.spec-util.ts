// Shared by the policy spec files (not part of the library's API).
import { readCib } from './cib-reader';
import { plan } from './plan';

/** The nodes each primitive runs on, clone instances folded (as the conformance tool compares). */
export function nodesOf(xml: string): Record<string, string[]> {
  const input = readCib(xml);
  const out: Record<string, string[]> = {};
  for (const [id, node] of Object.entries(plan(input.spec, input.state, input.history, input.now!).placement)) {
    const base = id.replace(/:\d+$/, '');
    out[base] ??= [];
    if (node !== null) out[base]!.push(node);
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}
