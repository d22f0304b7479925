// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the console
// reads the stream itself. The parser follows the WHATWG event-stream rules for the fields it needs
// (id, data, event, retry; comments; CR, LF or CRLF line ends; chunks split anywhere).

/**
 * @typedef {{ id: string, event: string, data: string }} SseMessage
 * @param {(m: SseMessage) => void} onMessage
 * @param {(ms: number) => void} [onRetry]
 */
export function createSseParser(onMessage, onRetry = () => {}) {
  let buffer = '';
  let data = [];
  let event = '';
  let idBuffer = '';
  let lastEventId = '';

  const line = (text) => {
    if (text === '') {
      // An id only counts once its event is complete (a stream cut mid-event resumes before it).
      lastEventId = idBuffer;
      if (data.length) onMessage({ id: lastEventId, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  };

  return {
    /** Feeds decoded text; complete lines are processed, a partial line waits for the next chunk. */
    push(chunk) {
      buffer += chunk;
      let start = 0;
      for (;;) {
        const cr = buffer.indexOf('\r', start);
        const lf = buffer.indexOf('\n', start);
        if (cr < 0 && lf < 0) break;
        const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (end === cr && cr === buffer.length - 1) break;
        line(buffer.slice(start, end));
        start = end + (end === cr && buffer[cr + 1] === '\n' ? 2 : 1);
      }
      buffer = buffer.slice(start);
    },
    /** The id of the last event seen (what `Last-Event-ID` resumes after). */
    get lastEventId() {
      return lastEventId;
    },
  };
}
