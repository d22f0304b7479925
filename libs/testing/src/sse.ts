/** One Server-Sent Event as received. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads an SSE stream with fetch until `onMessage` returns true or the timeout passes; then closes
 * the connection (the server sees the client go away).
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  onMessage: (m: SseMessage) => boolean | void,
  timeoutMs = 20_000,
): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`SSE read timed out after ${timeoutMs} ms`)), timeoutMs);
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    if (!res.ok || !res.body) throw new Error(`SSE ${url} answered ${res.status}: ${await res.text()}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('SSE stream ended');
      buf += decoder.decode(value, { stream: true });
      let idx: number;
      while ((idx = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const m: SseMessage = { data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          const field = c < 0 ? line : line.slice(0, c);
          const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
          if (field === 'id') m.id = val;
          else if (field === 'event') m.event = val;
          else if (field === 'data') data.push(val);
        }
        if (!data.length) continue;
        m.data = data.join('\n');
        if (onMessage(m) === true) {
          ac.abort();
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
    }
  } catch (e) {
    if (
      ac.signal.aborted &&
      !(ac.signal.reason instanceof Error && /timed out/.test(ac.signal.reason.message))
    )
      return;
    throw ac.signal.reason instanceof Error ? ac.signal.reason : e;
  } finally {
    clearTimeout(timer);
  }
}
