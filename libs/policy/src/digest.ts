import { createHash } from 'crypto';

// Note [Definition digests]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// Each start in a resource's history records `op-digest`: the MD5 of its parameters as Pacemaker
// serialises them (`calculate_operation_digest`, v1: a space, `<parameters` with the attributes
// sorted by name, `/>`, a newline; no parameters gives `<parameters/>`). When the digest of the
// configured parameters differs from the one recorded with the start in effect (or none is
// recorded), Pacemaker restarts the resource — or reloads it, when the start also recorded an
// `op-restart-digest` (the agent can reload) and that digest, over the parameters named in
// `op-force-restart`, still matches (`pcmk__check_action_config`). A restart is planned like any
// other (implied restarts, blocked starts); a reload moves nothing; parameters the reader cannot
// digest (several or rule-based sets, operation parameters) are refused.

const escapeXml = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The v1 operation digest of a start with these resource parameters. */
export function startDigest(params: ReadonlyMap<string, string>): string {
  const names = [...params.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const text = ` <parameters${names.map((n) => ` ${n}="${escapeXml(params.get(n)!)}"`).join('')}/>\n`;
  return createHash('md5').update(text).digest('hex');
}
