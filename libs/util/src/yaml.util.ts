import { Parser } from 'yaml';

/**
 * The deepest nesting of collections in a YAML text, read from the parser's concrete syntax tree
 * (iterative, no recursion) and stopping once past `stopAt`. Check it before `yaml.parse`: the
 * composer recurses once per level, and a document nested a few thousand levels deep can take the
 * whole process down (V8 aborts while compiling a regular expression near the stack limit).
 */
export function yamlDepth(text: string, stopAt = Infinity): number {
  type Token = { type?: string; value?: unknown; key?: unknown; items?: Token[] };
  let max = 0;
  for (const doc of new Parser().parse(text)) {
    const stack: [unknown, number][] = [[doc, 0]];
    while (stack.length) {
      const [tok, d] = stack.pop()!;
      if (!tok || typeof tok !== 'object') continue;
      const t = tok as Token;
      const depth =
        t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection' ? d + 1 : d;
      if (depth > max) max = depth;
      if (max > stopAt) return max;
      if (t.value) stack.push([t.value, depth]);
      if (t.key) stack.push([t.key, depth]);
      for (const it of t.items ?? []) stack.push([it, depth]);
    }
  }
  return max;
}
