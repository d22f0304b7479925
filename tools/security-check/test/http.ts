/** What one request got back. */
export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string;
  text: string;
  json?: unknown;
}

export interface SendOptions {
  token?: string;
  /** A JSON value (serialised), or raw text / bytes sent as they are. */
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Read the status and headers only (streams). */
  headOnly?: boolean;
  timeoutMs?: number;
}

/** One HTTP request with the body read in full (unless headOnly); never throws on an HTTP status. */
export async function send(base: string, method: string, path: string, o: SendOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Buffer | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), o.timeoutMs ?? 30_000);
  const url = `${base}${path}`;
  try {
    const res = await fetch(url, { method, headers, body, signal: ctl.signal });
    const contentType = res.headers.get('content-type') ?? '';
    if (o.headOnly && res.status < 400) {
      ctl.abort();
      return { method, url, status: res.status, contentType, text: '' };
    }
    const text = await res.text();
    let json: unknown;
    if (contentType.includes('json')) {
      try {
        json = JSON.parse(text);
      } catch {
        /* leave it as text */
      }
    }
    return { method, url, status: res.status, contentType, text, json };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether an answer is an RFC 9457 problem with its status. */
export function isProblem(a: Answer): boolean {
  const p = a.json as { status?: unknown } | undefined;
  return a.contentType.startsWith('application/problem+json') && !!p && p.status === a.status;
}
