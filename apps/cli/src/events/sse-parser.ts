/** One Server-Sent Event. */
export interface SseEvent {
  /** The last `id:` seen on the stream (the resume point for Last-Event-ID). */
  id?: string;
  event: string;
  data: string;
}

/**
 * An incremental parser of a `text/event-stream` body (WHATWG HTML §9.2.6): feed it decoded text
 * in whatever chunks the network gives; it returns the events completed by each chunk. Lines may
 * end in CRLF, LF or CR; comments (`:`) are keep-alives; an event without data is not dispatched.
 */
export class SseParser {
  /** The reconnection delay the server asked for (`retry:`), in ms. */
  retryMs?: number;
  lastEventId?: string;
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private pendingCr = false;

  push(chunk: string): SseEvent[] {
    let text = chunk;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = text.endsWith('\r');
    this.buffer += text;
    const out: SseEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (!this.data.length) {
        this.eventType = '';
        return undefined;
      }
      const ev: SseEvent = {
        id: this.lastEventId,
        event: this.eventType || 'message',
        data: this.data.join('\n'),
      };
      this.data = [];
      this.eventType = '';
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }
}
