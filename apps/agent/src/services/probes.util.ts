import { Socket } from 'node:net';
import { HttpCheckSpec, TcpCheckSpec } from '@nephele/contracts';

/** Connects to a TCP port: undefined when it accepts within the timeout, else why not. */
export function tcpProbe(check: TcpCheckSpec, timeoutMs: number): Promise<string | undefined> {
  const host = check.host ?? '127.0.0.1';
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (why?: string) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(timeoutMs, () => done(`tcp ${host}:${check.port}: no answer within ${timeoutMs} ms`));
    s.once('connect', () => done());
    s.once('error', (e) => done(`tcp ${host}:${check.port}: ${e.message}`));
    s.connect(check.port, host);
  });
}

/** GETs a URL: undefined when it answers with the expected status (default 2xx/3xx), else why not. */
export async function httpProbe(check: HttpCheckSpec, timeoutMs: number): Promise<string | undefined> {
  try {
    const r = await fetch(check.url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await r.body?.cancel();
    const ok =
      check.expectStatus !== undefined ? r.status === check.expectStatus : r.status >= 200 && r.status < 400;
    return ok ? undefined : `http ${check.url}: status ${r.status}`;
  } catch (e) {
    const err = e as Error & { cause?: { message?: string } };
    return `http ${check.url}: ${err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.message ?? err.message)}`;
  }
}
