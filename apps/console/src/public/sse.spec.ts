import { createSseParser, SseMessage } from './sse.js';

function parse(chunks: string[]): { messages: SseMessage[]; retries: number[]; lastEventId: string } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const sut = createSseParser(
    (m) => messages.push(m),
    (ms) => retries.push(ms),
  );
  for (const c of chunks) sut.push(c);
  return { messages, retries, lastEventId: sut.lastEventId };
}

describe('createSseParser', () => {
  it('reads id and data frames as the event log writes them', () => {
    const r = parse([
      'retry: 2000\n\n',
      'id: 7\ndata: {"type":"a"}\n\n',
      ': keep-alive\n\n',
      'id: 8\ndata: {}\n\n',
    ]);
    expect(r.retries).toEqual([2000]);
    expect(r.messages).toEqual([
      { id: '7', event: 'message', data: '{"type":"a"}' },
      { id: '8', event: 'message', data: '{}' },
    ]);
    expect(r.lastEventId).toBe('8');
  });

  it('joins data lines, keeps event names and handles CRLF and CR line ends', () => {
    const r = parse(['event: x\r\ndata: one\r\ndata:two\r\n\r\n', 'data: three\r\rid: 9\n\n']);
    expect(r.messages).toEqual([
      { id: '', event: 'x', data: 'one\ntwo' },
      { id: '', event: 'message', data: 'three' },
    ]);
    expect(r.lastEventId).toBe('9');
  });

  it('reassembles frames split anywhere, even between CR and LF', () => {
    const text = 'id: 41\r\ndata: {"a":1}\r\n\r\nid: 42\r\ndata: {"b":2}\r\n\r\n';
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(parse(chunks).messages.map((m) => [m.id, m.data])).toEqual([
        ['41', '{"a":1}'],
        ['42', '{"b":2}'],
      ]);
    }
  });

  it('does not move the resume point before an event is complete', () => {
    const r = parse(['id: 5\ndata: x\n\n', 'id: 6\ndata: half']);
    expect(r.messages).toHaveLength(1);
    expect(r.lastEventId).toBe('5');
  });
});
