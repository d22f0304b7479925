// Shell blocks of the docs that claim to work: a ```sh fence right after a `<!-- runs: what it
// needs -->` comment. tools/docs/test/runnable.e2e-spec.ts runs each one; blocks without the
// comment are examples against the reader's own installation and are not run.

export interface RunnableBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** What the block needs, from the comment. */
  needs: string;
  script: string;
}

export function runnableBlocks(markdown: string): RunnableBlock[] {
  const lines = markdown.split('\n');
  const out: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*<!--\s*runs:\s*(.*?)\s*-->\s*$/.exec(lines[i]);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    if (!/^\s*```(sh|bash|shell)\s*$/.test(lines[j] ?? '')) {
      throw new Error(`line ${i + 1}: a runs: comment must be followed by a sh code block`);
    }
    const body: string[] = [];
    let k = j + 1;
    while (k < lines.length && !/^\s*```\s*$/.test(lines[k])) body.push(lines[k++]);
    if (k === lines.length) throw new Error(`line ${j + 1}: unterminated code block`);
    out.push({ line: j + 1, needs: m[1], script: body.join('\n') });
    i = k;
  }
  return out;
}
