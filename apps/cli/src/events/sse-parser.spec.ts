import { SseParser } from './sse-parser';

describe(SseParser.name, () => {
  it('dispatches an event at the blank line, with the last id, joining data lines', () => {
    const sut = new SseParser();
    expect(sut.push('retry: 2000\n\nid: 7\ndata: {"a":\ndata: 1}\n\n')).toEqual([
      { id: '7', event: 'message', data: '{"a":\n1}' },
    ]);
    expect(sut.retryMs).toBe(2000);
  });

  it('handles events split across chunks anywhere, including inside a CRLF', () => {
    const sut = new SseParser();
    const text = 'id: 1\r\ndata: one\r\n\r\n: keep-alive\r\n\r\nid: 2\r\nevent: x\r\ndata: two\r\n\r\n';
    const out = [];
    for (const ch of text) out.push(...sut.push(ch));
    expect(out).toEqual([
      { id: '1', event: 'message', data: 'one' },
      { id: '2', event: 'x', data: 'two' },
    ]);
  });

  it('ignores comments and events without data, keeping the id for resumption', () => {
    const sut = new SseParser();
    expect(sut.push(': keep-alive\n\nid: 9\n\n')).toEqual([]);
    expect(sut.lastEventId).toBe('9');
    expect(sut.push('data: x\n\n')).toEqual([{ id: '9', event: 'message', data: 'x' }]);
  });

  it('keeps an incomplete event until its blank line arrives', () => {
    const sut = new SseParser();
    expect(sut.push('data: half')).toEqual([]);
    expect(sut.push('\n')).toEqual([]);
    expect(sut.push('\n')).toEqual([{ id: undefined, event: 'message', data: 'half' }]);
  });
});
