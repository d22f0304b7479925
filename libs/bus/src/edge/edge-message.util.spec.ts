import { message as amqp } from 'rhea';
import { brokerAddress, decodeMessage, encodeMessage, idToString, routerAddress } from './edge-message.util';

/** Through the AMQP codec and back, as a peer would receive it. */
const wire = (m: ReturnType<typeof encodeMessage>) => amqp.decode(amqp.encode(m)) as any;

describe('edge message codec', () => {
  it('sends JSON as one data section with content-type application/json', () => {
    const m = encodeMessage(
      { a: 1, b: ['x'] },
      { correlationId: 'c1', replyTo: '/queue/reply.me', ttlMs: 500 },
    );
    expect(m.content_type).toBe('application/json');
    expect((m.body as any).typecode).toBe(0x75);
    expect(JSON.parse((m.body as any).content.toString())).toEqual({ a: 1, b: ['x'] });
    const d = decodeMessage('q', wire(m));
    expect(d).toMatchObject({
      ok: true,
      message: {
        body: { a: 1, b: ['x'] },
        bodyFormat: 'json',
        correlationId: 'c1',
        replyTo: '/queue/reply.me',
      },
    });
  });

  it('sends AMQP maps for the amqp format, with application properties', () => {
    const m = encodeMessage(
      { _method_name: 'deployable_list', _arguments: {} },
      { format: 'amqp', applicationProperties: { 'qmf.opcode': '_method_request' } },
    );
    const d = decodeMessage('q', wire(m));
    expect(d).toMatchObject({
      ok: true,
      message: {
        bodyFormat: 'amqp',
        body: { _method_name: 'deployable_list', _arguments: {} },
        applicationProperties: { 'qmf.opcode': '_method_request' },
      },
    });
  });

  it('rejects a data section labelled JSON that is not JSON, without throwing', () => {
    const d = decodeMessage(
      'q',
      wire({ body: amqp.data_section(Buffer.from('{nope')), content_type: 'application/json' }),
    );
    expect(d.ok).toBe(false);
    expect(!d.ok && d.reason).toMatch(/malformed JSON/);
  });

  it('parses unlabelled JSON data (amqplib publishers) and keeps other bytes as a Buffer', () => {
    const j = decodeMessage('q', wire({ body: amqp.data_section(Buffer.from(' {"x":2}')) }));
    expect(j).toMatchObject({ ok: true, message: { body: { x: 2 }, bodyFormat: 'json' } });
    const b = decodeMessage('q', wire({ body: amqp.data_section(Buffer.from([1, 2, 3])) }));
    expect(b.ok && Buffer.isBuffer(b.message.body)).toBe(true);
    expect(b.ok && b.message.bodyFormat).toBe('binary');
  });

  it('refuses bodies JSON cannot carry', () => {
    const cyclic: any = {};
    cyclic.self = cyclic;
    expect(() => encodeMessage(cyclic)).toThrow(/JSON-serialisable/);
    expect(() => encodeMessage({}, { ttlMs: -1 })).toThrow(/ttlMs/);
  });

  it('maps addresses for RabbitMQ and for the router', () => {
    expect(brokerAddress('nephele.cpe')).toBe('/queue/nephele.cpe');
    expect(brokerAddress('/exchange/nephele.events/k')).toBe('/exchange/nephele.events/k');
    expect(routerAddress('/queue/nephele.cpe')).toBe('nephele.cpe');
    expect(routerAddress('nephele.cpe')).toBe('nephele.cpe');
  });

  it('turns AMQP ids into strings', () => {
    expect(idToString(7)).toBe('7');
    expect(idToString(Buffer.from('00112233445566778899aabbccddeeff', 'hex'))).toBe(
      '00112233-4455-6677-8899-aabbccddeeff',
    );
    expect(idToString(undefined)).toBeUndefined();
  });
});
