/**
 * AMQP topic matching: `*` matches exactly one dot-separated word, `#` zero or more words.
 * Used by the in-memory bus and by event filters (`nephele.assembly.*`).
 */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = `${i}:${j}`;
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    let r: boolean;
    if (i === p.length) r = j === k.length;
    else if (p[i] === '#') r = go(i + 1, j) || (j < k.length && go(i, j + 1));
    else r = j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return go(0, 0);
}
