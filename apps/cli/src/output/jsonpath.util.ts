import { UsageError } from '../errors.util';

type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' };

/**
 * Parses the subset of JSONPath (kubectl's `{.a.b[0].c}`, or `$.a.b[*].c`) the CLI supports:
 * member names (`.name`, `['name']`), indexes (`[0]`, `[-1]`) and wildcards (`[*]`, `.*`).
 */
export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  const bad = () =>
    new UsageError(`--jsonpath: cannot read "${expr}" (use {.items[*].name}, $.status or .a[0].b)`);
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      const m = /^\.(\*|[A-Za-z_$][\w$-]*)/.exec(s.slice(i));
      if (!m) throw bad();
      steps.push(m[1] === '*' ? { kind: 'all' } : { kind: 'key', key: m[1]! });
      i += m[0].length;
    } else if (s[i] === '[') {
      const m = /^\[(\*|-?\d+|'[^']*'|"[^"]*")\]/.exec(s.slice(i));
      if (!m) throw bad();
      const t = m[1]!;
      if (t === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(t)) steps.push({ kind: 'index', index: Number(t) });
      else steps.push({ kind: 'key', key: t.slice(1, -1) });
      i += m[0].length;
    } else if (steps.length === 0 && /[A-Za-z_]/.test(s[i]!)) {
      s = `.${s.slice(i)}`;
      i = 0;
    } else throw bad();
  }
  return steps;
}

/** Every value the path selects in `root` (a list printed by the CLI also answers to `.items`). */
export function evaluateJsonPath(root: unknown, expr: string): unknown[] {
  const steps = parseJsonPath(expr);
  const first = steps[0];
  let values: unknown[] = [
    Array.isArray(root) && first?.kind === 'key' && first.key === 'items' ? { items: root } : root,
  ];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || typeof v !== 'object') continue;
      if (step.kind === 'all') next.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if (step.kind === 'index') {
        if (Array.isArray(v)) {
          const x = v[step.index < 0 ? v.length + step.index : step.index];
          if (x !== undefined) next.push(x);
        }
      } else if (Object.hasOwn(v, step.key)) next.push((v as Record<string, unknown>)[step.key]);
    }
    values = next;
  }
  return values;
}

/** The selected values one per line: strings as they are, anything else as compact JSON. */
export function renderJsonPath(root: unknown, expr: string): string {
  return evaluateJsonPath(root, expr)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .join('\n');
}
