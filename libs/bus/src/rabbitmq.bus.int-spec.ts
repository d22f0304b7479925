import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createEvent, Topology } from '@nephele/contracts';
import { createTestVhost, TestResource, waitFor } from '@nephele/testing';
import { Outcome } from './bus.types';
import { RabbitMqBus } from './rabbitmq.bus';

const run = promisify(execFile);
const scaled = (n: number, id?: string) =>
  createEvent('test', 'nephele.group.scaled', { groupId: 'g', from: 0, to: n, reason: 'test' }, { id });

describe(RabbitMqBus.name, () => {
  let vhost: TestResource;
  let sut: RabbitMqBus;

  beforeAll(async () => {
    vhost = await createTestVhost('bus');
  });
  afterAll(async () => {
    await vhost.drop();
  });
  beforeEach(async () => {
    sut = new RabbitMqBus({ url: vhost.url, service: 'bustest' });
    await sut.start();
  });
  afterEach(async () => {
    await sut.close();
  });

  it('publishes with confirms and delivers to a bound durable queue', async () => {
    const got: number[] = [];
    await sut.subscribe({
      queue: 'bustest.a',
      exchange: Topology.events,
      bindings: ['nephele.group.*'],
      handler: async (e) => {
        got.push((e.data as { to: number }).to);
        return Outcome.ack();
      },
    });
    await sut.publishAll([1, 2, 3].map((n) => scaled(n)));
    await waitFor(() => got.length === 3, { what: '3 deliveries' });
    expect(got.sort()).toEqual([1, 2, 3]);
  });

  it('dead-letters an invalid message to <service>.dlq with the reason in a header, and keeps consuming', async () => {
    const got: string[] = [];
    await sut.subscribe({
      queue: 'bustest.b',
      exchange: Topology.events,
      bindings: ['#'],
      handler: async (e) => {
        got.push(e.id);
        return Outcome.ack();
      },
    });
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createConfirmChannel();
    ch.publish(Topology.events, 'nephele.group.scaled', Buffer.from('{not json'));
    ch.publish(
      Topology.events,
      'nephele.group.scaled',
      Buffer.from(JSON.stringify(createEvent('t', 'nephele.group.scaled', { groupId: 'g' }))),
    );
    await ch.waitForConfirms();
    await sut.publish(scaled(1, 'valid-after'));
    await waitFor(() => got.includes('valid-after'), { what: 'the valid event' });
    const dead: amqp.GetMessage[] = [];
    await waitFor(
      async () => {
        const m = await ch.get(Topology.dlq('bustest'), { noAck: true });
        if (m) dead.push(m);
        return dead.length === 2;
      },
      { what: 'two dead letters' },
    );
    const reasons = dead.map((m) => String(m.properties.headers?.[Topology.deadLetterReasonHeader]));
    expect(reasons[0]).toMatch(/malformed JSON/);
    expect(reasons[1]).toMatch(/data\.from/);
    expect(dead[0]!.properties.headers?.[Topology.deadLetterQueueHeader]).toBe('bustest.b');
    await conn.close();
  });

  it('redelivers a message whose handler asked for a retry', async () => {
    const attempts: boolean[] = [];
    await sut.subscribe({
      queue: 'bustest.c',
      exchange: Topology.events,
      bindings: ['nephele.group.scaled'],
      handler: async (_e, ctx) => {
        attempts.push(ctx.redelivered);
        return attempts.length < 3 ? Outcome.retry(20) : Outcome.ack();
      },
    });
    await sut.publish(scaled(1));
    await waitFor(() => attempts.length === 3, { what: 'three attempts' });
    expect(attempts).toEqual([false, true, true]);
  });

  it('settles every delivery of a batch subscription (acked in batches, retried, dead-lettered) and leaves none unacked', async () => {
    const seen = new Map<number, number>();
    let bodiesUnlikeEvents = 0;
    const sub = await sut.subscribe({
      queue: 'bustest.batch',
      exchange: Topology.events,
      bindings: ['nephele.group.scaled'],
      batchSize: 50,
      maxWaitMs: 10,
      prefetch: 120,
      batchHandler: async (items) => {
        // Batches overlap: a later one may finish first.
        await new Promise((r) => setTimeout(r, Math.random() * 30));
        // Each item carries the body its event was parsed from.
        bodiesUnlikeEvents += items.filter(
          ({ event, json }) => JSON.stringify(JSON.parse(json)) !== JSON.stringify(event),
        ).length;
        return items.map(({ event }) => {
          const n = (event.data as { to: number }).to;
          const times = (seen.get(n) ?? 0) + 1;
          seen.set(n, times);
          if (n % 97 === 0) return Outcome.deadLetter('test: refused');
          return n % 10 === 0 && times === 1 ? Outcome.retry(50) : Outcome.ack();
        });
      },
    });
    await sut.publishAll(Array.from({ length: 1000 }, (_, i) => scaled(i + 1)));
    await waitFor(
      () =>
        [...seen.keys()].length === 1000 &&
        [...seen.entries()].every(([n, t]) => t === (n % 10 === 0 && n % 97 !== 0 ? 2 : 1)),
      {
        what: 'every message handled, retries twice',
      },
    );
    await new Promise((r) => setTimeout(r, 200));
    // Cancelling returns unacked deliveries to the queue: none may be left.
    await sub.cancel();
    const conn = await amqp.connect(vhost.url);
    const ch = await conn.createChannel();
    expect((await ch.checkQueue('bustest.batch')).messageCount).toBe(0);
    expect((await ch.checkQueue(Topology.dlq('bustest'))).messageCount).toBe(10);
    expect([...seen.values()].filter((t) => t > 1)).toHaveLength(100 - 1);
    expect(bodiesUnlikeEvents).toBe(0);
    await conn.close();
  });

  it('answers request/reply through direct reply-to', async () => {
    await sut.respond('bustest.rpc', ['nephele.test.double'], async (e) => (e.data as { n: number }).n * 2);
    await expect(sut.request(createEvent('t', 'nephele.test.double', { n: 21 }))).resolves.toBe(42);
    const started = Date.now();
    await expect(
      sut.request(createEvent('t', 'nephele.test.nobody', {}), { timeoutMs: 5000 }),
    ).rejects.toThrow(/no service answers/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers requestJson with the result bytes unparsed, and rejects a failed request', async () => {
    await sut.respond('bustest.rpcjson', ['nephele.test.json.*'], async (e) => {
      if (e.type === 'nephele.test.json.fail') throw new Error('no such account');
      if (e.type === 'nephele.test.json.none') return undefined;
      return { at: 'now', items: [{ id: 'a', note: '{"ok":true,"result":é}' }] };
    });
    const r = await sut.requestJson(createEvent('t', 'nephele.test.json.list', {}));
    expect(JSON.parse(r.toString('utf8'))).toEqual({
      at: 'now',
      items: [{ id: 'a', note: '{"ok":true,"result":é}' }],
    });
    await expect(sut.requestJson(createEvent('t', 'nephele.test.json.none', {}))).resolves.toEqual(
      Buffer.from('null'),
    );
    await expect(sut.requestJson(createEvent('t', 'nephele.test.json.fail', {}))).rejects.toThrow(
      'no such account',
    );
  });

  it('reconnects and re-subscribes after the broker drops the connection', async () => {
    const got: number[] = [];
    await sut.subscribe({
      queue: 'bustest.d',
      exchange: Topology.events,
      bindings: ['nephele.group.scaled'],
      handler: async (e) => {
        got.push((e.data as { to: number }).to);
        return Outcome.ack();
      },
    });
    await sut.publish(scaled(1));
    await waitFor(() => got.length === 1, { what: 'first delivery' });
    await run('rabbitmqctl', ['close_all_connections', '-p', vhost.name, 'test: drop connections']);
    await waitFor(() => !sut.isReady(), { what: 'the bus to notice', timeoutMs: 5000 }).catch(
      () => undefined,
    );
    // publish waits for the reconnect, then confirms
    await sut.publish(scaled(2));
    await waitFor(() => got.includes(2), { what: 'delivery after reconnect', timeoutMs: 15_000 });
    expect(sut.isReady()).toBe(true);
  });
});

describe('RabbitMqBus start without a broker', () => {
  it('starts anyway, reports not ready, and connects and subscribes once the broker answers', async () => {
    const vhost = await createTestVhost('bus_late');
    // A port nobody listens on first; then the real broker behind a tiny TCP relay we open later.
    const { createServer, connect } = await import('node:net');
    const target = new URL(vhost.url);
    const relay = createServer((c) => {
      const up = connect(Number(target.port || 5672), target.hostname);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    const port = await new Promise<number>((r) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => r(p));
      });
    });
    const url = `amqp://guest:guest@127.0.0.1:${port}/${encodeURIComponent(vhost.name)}`;
    const sut = new RabbitMqBus({ url, service: 'bustest' });
    try {
      await sut.start();
      expect(sut.isReady()).toBe(false);
      const got: string[] = [];
      await sut.subscribe({
        queue: 'bustest.late',
        exchange: Topology.events,
        bindings: ['nephele.group.scaled'],
        handler: async (e) => {
          got.push(e.id);
          return Outcome.ack();
        },
      });
      await new Promise<void>((r) => relay.listen(port, '127.0.0.1', () => r()));
      await waitFor(() => sut.isReady(), { timeoutMs: 15_000, what: 'the bus connected' });
      await sut.publish(scaled(1, 'late-1'));
      await waitFor(() => got.includes('late-1'), { what: 'delivery on the late subscription' });
    } finally {
      await sut.close();
      relay.close();
      await vhost.drop();
    }
  });
});
