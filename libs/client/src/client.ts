/** An RFC 9457 problem as Nephele's APIs return it. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

/** A request the API refused (4xx/5xx), with its problem details. */
export class NepheleApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
    readonly method: string,
    readonly path: string,
  ) {
    super(
      `${method} ${path} → ${status} ${problem.title ?? ''}${problem.detail ? `: ${problem.detail}` : ''}${
        problem.errors?.length ? ` (${problem.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})` : ''
      }`,
    );
  }
}

export interface ClientOptions {
  /** e.g. http://localhost:8080 */
  url: string;
  token?: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/** A small typed client of Nephele's REST APIs (the CLI, the all-in-one's seeding and the tests use it). */
export class NepheleClient {
  constructor(readonly opts: ClientOptions) {}

  withToken(token: string): NepheleClient {
    return new NepheleClient({ ...this.opts, token });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const h: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      if (typeof body === 'string') payload = body;
      else {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
    }
    const res = await fetch(`${this.opts.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: h,
      body: payload,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        /* leave as text */
      }
    }
    if (!res.ok) {
      const problem = (
        typeof parsed === 'object' && parsed
          ? parsed
          : { status: res.status, detail: String(text).slice(0, 500) }
      ) as ProblemBody;
      throw new NepheleApiError(res.status, problem, method, path);
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path).then((r) => r.body);
  }
  post<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('POST', path, body ?? {}, headers).then((r) => r.body);
  }
  put<T = unknown>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('PUT', path, body, headers).then((r) => r.body);
  }
  patch<T = unknown>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('PATCH', path, body, headers).then((r) => r.body);
  }
  delete<T = unknown>(path: string, headers?: Record<string, string>): Promise<T> {
    return this.request<T>('DELETE', path, undefined, headers).then((r) => r.body);
  }

  /**
   * Opens a streaming GET (Server-Sent Events) with the client's token and returns the response
   * once the status is known; a refused request throws NepheleApiError like the other methods.
   * There is no per-request timeout: the caller ends the stream with `signal`.
   */
  async openStream(
    path: string,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const h: Record<string, string> = { accept: 'text/event-stream', ...headers };
    if (this.opts.token) h.authorization = `Bearer ${this.opts.token}`;
    const res = await fetch(`${this.opts.url.replace(/\/$/, '')}${path}`, { headers: h, signal });
    if (!res.ok) {
      const text = await res.text();
      let problem: ProblemBody = { status: res.status, detail: text.slice(0, 500) };
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object') problem = parsed as ProblemBody;
      } catch {
        /* leave as text */
      }
      throw new NepheleApiError(res.status, problem, 'GET', path);
    }
    return res;
  }

  /** Every item of a paginated list. */
  async all<T = unknown>(path: string): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: { items: T[]; nextCursor: string | null } = await this.get(
        `${path}${sep}limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}
