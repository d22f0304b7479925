/** A table column: its header and how a row shows in it. */
export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Cells longer than this are cut with "…" (default 60; ids and names are never long). */
  max?: number;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** One value as a table cell: `-` for nothing, lists comma-separated, objects as compact JSON. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'string') return ISO_TIME.test(v) ? v.replace(/\.\d+Z$/, 'Z') : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v))
    return v.length ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(',') : '-';
  if (typeof v === 'object' && Object.keys(v).length === 0) return '-';
  return JSON.stringify(v);
}

function cut(s: string, max: number): string {
  const flat = s.replace(/\s*\n\s*/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Rows under upper-case headers, columns padded to their widest cell and separated by two spaces. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cut(formatCell(c.value(r)), c.max ?? 60)));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** One object as `key: value` lines, keys aligned; nested objects as compact JSON. */
export function renderKeyValues(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  const width = Math.max(0, ...keys.map((k) => k.length + 1));
  return keys.map((k) => `${`${k}:`.padEnd(width)}  ${formatCell(obj[k])}`).join('\n');
}

/** A hardware amount as people write it: `2`, `2..4`, `2..` (at least), `..4` (at most). */
export function formatAmount(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') {
    const { min, max } = v as { min?: number; max?: number };
    if (min !== undefined && max !== undefined) return min === max ? String(min) : `${min}..${max}`;
    if (min !== undefined) return `${min}..`;
    if (max !== undefined) return `..${max}`;
  }
  return formatCell(v);
}
