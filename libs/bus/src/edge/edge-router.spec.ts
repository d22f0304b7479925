import { EdgeListener } from './edge-listener';
import { EdgeMessage, EdgeOutcomes } from './edge.types';

/** The router through in-process connections (no sockets): queue semantics, settlement, requests. */
describe('EdgeRouter (listen mode, in process)', () => {
  let sut: EdgeListener;
  beforeEach(() => {
    sut = new EdgeListener({ allowAnonymous: true });
  });
  afterEach(() => sut.close());

  it('queues messages until a receiver attaches, then delivers them in order', async () => {
    const a = sut.connect('a');
    await a.send('/queue/work', { n: 1 });
    await a.send('work', { n: 2 });
    const got: unknown[] = [];
    const b = sut.connect('b');
    await b.receive('work', (m) => {
      got.push(m.body);
      return EdgeOutcomes.accept();
    });
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(sut.router.stats()).toEqual([{ address: 'work', ready: 0, unacked: 0, consumers: 1, bytes: 0 }]);
  });

  it('redelivers a released message with a higher delivery count (at least once)', async () => {
    const c = sut.connect('c');
    const seen: EdgeMessage[] = [];
    await c.receive('jobs', (m) => {
      seen.push(m);
      return seen.length === 1 ? EdgeOutcomes.release() : EdgeOutcomes.accept();
    });
    await c.send('jobs', { job: 1 });
    expect(seen.map((m) => m.deliveryCount)).toEqual([0, 1]);
  });

  it('tells the sender when the receiver rejects, with the reason', async () => {
    const c = sut.connect('c');
    await c.receive('strict', () => EdgeOutcomes.reject('not for me'));
    await expect(c.send('strict', {})).rejects.toThrow(/not for me/);
  });

  it('bounds what a receiver holds by its prefetch, and gives it back when it detaches', async () => {
    const c = sut.connect('c');
    const held: (() => void)[] = [];
    const sub = await c.receive(
      'slow',
      () => new Promise((resolve) => held.push(() => resolve(EdgeOutcomes.accept()))),
      { prefetch: 2 },
    );
    const sends = [1, 2, 3, 4].map((n) => c.send('slow', { n }));
    await new Promise((r) => setImmediate(r));
    expect(held).toHaveLength(2);
    expect(sut.router.stats()[0]).toMatchObject({ ready: 2, unacked: 2 });
    await sub.close();
    // Nobody is there any more: the queue keeps all four, and their senders are answered.
    expect(sut.router.stats()[0]).toMatchObject({ ready: 4, unacked: 0, consumers: 0 });
    await Promise.all(sends);
    const got: number[] = [];
    await c.receive('slow', (m) => {
      got.push((m.body as { n: number }).n);
      return EdgeOutcomes.accept();
    });
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([1, 2, 3, 4]);
  });

  it('answers requests on reply addresses that exist only while their receiver does', async () => {
    const server = sut.connect('server');
    await server.serve('nephele.cpe', (req) => ({
      body: { _arguments: { got: req.body } },
      applicationProperties: { 'qmf.opcode': '_method_response' },
    }));
    const client = sut.connect('client');
    const reply = await client.request(
      'nephele.cpe',
      { _method_name: 'deployable_list', _arguments: {} },
      { format: 'amqp', applicationProperties: { 'qmf.opcode': '_method_request' } },
    );
    expect(reply.body).toEqual({ _arguments: { got: { _method_name: 'deployable_list', _arguments: {} } } });
    expect(reply.bodyFormat).toBe('amqp');
    expect(reply.applicationProperties['qmf.opcode']).toBe('_method_response');
    await client.close();
    await expect(server.send('reply.client', {})).rejects.toThrow(/no receiver/);
  });

  it('refuses a request without reply-to, and a message to a full queue', async () => {
    const small = new EdgeListener({ allowAnonymous: true, maxQueueLength: 1 });
    const c = small.connect('c');
    await c.serve('svc', () => ({ body: {} }));
    await expect(c.send('svc', { no: 'reply-to' })).rejects.toThrow(/reply-to/);
    await c.send('parked', 1);
    await expect(c.send('parked', 2)).rejects.toThrow(/full/);
    await small.close();
  });

  it('drops expired messages instead of delivering them', async () => {
    const c = sut.connect('c');
    await c.send('later', { stale: true }, { ttlMs: 1 });
    await c.send('later', { fresh: true });
    await new Promise((r) => setTimeout(r, 5));
    const got: unknown[] = [];
    await c.receive('later', (m) => {
      got.push(m.body);
      return EdgeOutcomes.accept();
    });
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ fresh: true }]);
  });

  it('releases, after a pause, a message whose handler threw; other messages go on', async () => {
    const c = sut.connect('c');
    let calls = 0;
    await c.receive('buggy', () => {
      calls++;
      if (calls === 1) throw new Error('bug');
      return EdgeOutcomes.accept();
    });
    await c.send('buggy', {});
    expect(calls).toBe(2);
  });
});
