import { NepheleApiError } from '@nephele/client';

/** Exit codes: 0 success, 1 an API or runtime error, 2 a usage error (bad flags, bad arguments). */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** An error the CLI reports as is: a message, optional detail lines and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_ERROR,
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

/** The command line was wrong (exit 2). */
export class UsageError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, EXIT_USAGE, details);
  }
}

/**
 * The one not-found wording of the CLI, whether the CLI or the API found nothing:
 * `error: deployable "shop" not found` (exit 1).
 */
export function notFound(label: string, ref: string): CliError {
  return new CliError(`${label} "${ref}" not found`, EXIT_ERROR);
}

/** The API's `deployable shop not found` in the CLI's wording; undefined when it reads otherwise. */
export function notFoundWording(detail: string): string | undefined {
  const m = /^(.+?) (\S+) not found$/.exec(detail.trim());
  if (!m) return undefined;
  const ref = m[2]!.replace(/^"(.*)"$/, '$1');
  return `${m[1]} "${ref}" not found`;
}

const HINTS: Record<number, string> = {
  401: 'give a valid token with --token, NEPHELE_TOKEN or `nephele login`',
  403: 'the token is not allowed to do this (viewer tokens cannot write; some resources need an admin token)',
  412: 'the object changed since it was read: read it again and retry',
};

/**
 * The lines that describe an error to a user: first `error: …`, then the problem's field errors as
 * `  field: message` lines. API errors keep the HTTP status in the first line.
 */
export function describeError(e: unknown, url: string): { lines: string[]; exitCode: number } {
  if (e instanceof CliError) {
    return { lines: [`error: ${e.message}`, ...e.details.map((d) => `  ${d}`)], exitCode: e.exitCode };
  }
  if (e instanceof NepheleApiError) {
    const p = e.problem;
    let summary = p.detail || p.title || 'request failed';
    if (e.status === 404) {
      const worded = notFoundWording(summary);
      if (worded && !p.errors?.length) return { lines: [`error: ${worded}`], exitCode: EXIT_ERROR };
      if (!/not found/i.test(summary)) summary = `not found: ${summary}`;
    }
    const title = p.title && p.title !== summary ? `${p.title}: ` : '';
    const lines = [`error: ${e.status === 404 ? '' : title}${summary} (HTTP ${e.status})`];
    for (const fe of p.errors ?? []) lines.push(`  ${fe.field}: ${fe.message}`);
    const hint = HINTS[e.status];
    if (hint) lines.push(`hint: ${hint}`);
    return { lines, exitCode: EXIT_ERROR };
  }
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
    return { lines: [`error: Nephele at ${url} did not answer in time`], exitCode: EXIT_ERROR };
  }
  // By name, not instanceof: fetch's TypeError may come from another realm (jest, bundles).
  if (err?.name === 'TypeError' && err.message === 'fetch failed') {
    const why = err.cause?.code ?? err.cause?.message ?? 'connection failed';
    return {
      lines: [
        `error: cannot reach Nephele at ${url} (${why})`,
        'hint: set the URL with --url, NEPHELE_URL or `nephele login`',
      ],
      exitCode: EXIT_ERROR,
    };
  }
  return { lines: [`error: ${err?.message ?? String(e)}`], exitCode: EXIT_ERROR };
}

/** Replaces every occurrence of a secret in a text (defence in depth: a token is never printed). */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join('***') : text;
}
