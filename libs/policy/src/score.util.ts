/** Pacemaker's INFINITY: any score at or beyond it is clamped to it. */
export const INFINITY = 1_000_000;

/**
 * Adds two scores the way Pacemaker's `pcmk__add_scores()` does: −INFINITY wins over everything
 * (so +INF + −INF = −INF), then +INFINITY, and finite sums are clamped to ±INFINITY.
 * Note that this is not associative once a sum clamps, so callers apply terms in Pacemaker's order.
 */
export function addScores(a: number, b: number): number {
  if (a <= -INFINITY || b <= -INFINITY) return -INFINITY;
  if (a >= INFINITY || b >= INFINITY) return INFINITY;
  const sum = a + b;
  if (sum >= INFINITY) return INFINITY;
  if (sum <= -INFINITY) return -INFINITY;
  return sum;
}

/** Clamps an integer score into [−INFINITY, +INFINITY]. */
export function clampScore(score: number): number {
  if (score >= INFINITY) return INFINITY;
  if (score <= -INFINITY) return -INFINITY;
  return Math.trunc(score);
}

/**
 * Parses a CIB score (`INFINITY`, `+INFINITY`, `-INFINITY`, `inf`, or an integer) like
 * Pacemaker's `char2score()`. Returns undefined for anything else.
 */
export function parseScore(text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'number') return Number.isFinite(text) ? clampScore(text) : text > 0 ? INFINITY : -INFINITY;
  const t = text.trim().toLowerCase();
  if (t === 'infinity' || t === '+infinity' || t === 'inf' || t === '+inf') return INFINITY;
  if (t === '-infinity' || t === '-inf') return -INFINITY;
  if (!/^[+-]?\d+$/.test(t)) return undefined;
  return clampScore(Number(t));
}

/** Formats a score as Pacemaker prints it (`INFINITY`, `-INFINITY` or the integer). */
export function formatScore(score: number): string {
  if (score >= INFINITY) return 'INFINITY';
  if (score <= -INFINITY) return '-INFINITY';
  return String(score);
}
