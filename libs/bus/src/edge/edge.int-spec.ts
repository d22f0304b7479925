import { execFile } from 'node:child_process';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import * as amqplib from 'amqplib';
import { createTestVhost, freePort, TestResource, waitFor } from '@nephele/testing';
import { EdgeClient } from './edge-client';
import { EdgeListener, EdgePrincipal } from './edge-listener';
import { EdgeConnection, EdgeMessage, EdgeOutcomes } from './edge.types';

const run = promisify(execFile);
const QMF_CLIENT = path.join(__dirname, 'fixtures/qmf_client.py');

/** Runs the Python (qpid-proton) QMF client once and returns the JSON line it printed. */
async function qmf(
  url: string,
  address: string,
  method: string,
  args: object,
  extra: string[] = [],
): Promise<any> {
  const { stdout } = await run(
    '/usr/bin/python3',
    [QMF_CLIENT, url, address, method, JSON.stringify(args), ...extra],
    {
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

/** A QMF-style management server, as the CPE will be. */
async function serveQmf(edge: EdgeConnection, address: string, seen: EdgeMessage[] = []) {
  return edge.serve(address, (req) => {
    seen.push(req);
    const body = req.body as { _method_name?: unknown; _arguments?: Record<string, unknown> };
    if (
      req.applicationProperties['qmf.opcode'] !== '_method_request' ||
      typeof body?._method_name !== 'string'
    ) {
      return {
        body: { _values: { error_code: 400, error_text: 'not a QMF method request' } },
        applicationProperties: { 'qmf.opcode': '_exception' },
      };
    }
    return {
      body: { _arguments: { method: body._method_name, echo: body._arguments ?? {} } },
      applicationProperties: { 'qmf.opcode': '_method_response' },
    };
  });
}

describe('AMQP 1.0 edge, listen mode (Nephele accepts peers)', () => {
  let listener: EdgeListener;
  let port: number;
  const clients: EdgeConnection[] = [];
  const principals: Record<string, EdgePrincipal> = {
    mgmt: { name: 'token-1' },
    'assembly-1': {
      name: 'assembly-1',
      mayAttach: (role, address) =>
        role === 'receive'
          ? address === 'nephele.agent.assembly-1' || address === 'reply.assembly-1'
          : address.startsWith('nephele.agent.events.') || address.startsWith('reply.'),
    },
  };
  const secrets: Record<string, string> = { mgmt: 'tok-secret', 'assembly-1': 'a1-secret' };

  beforeAll(async () => {
    port = await freePort();
    listener = new EdgeListener({
      port,
      host: '127.0.0.1',
      verify: (u, p) => (secrets[u] !== undefined && secrets[u] === p ? principals[u] : null),
    });
    await listener.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await listener.close();
  });

  const client = (opts: Partial<ConstructorParameters<typeof EdgeClient>[0]> = {}) => {
    const c = new EdgeClient({
      url: `amqp://127.0.0.1:${port}`,
      reconnectBaseMs: 50,
      reconnectCapMs: 200,
      ...opts,
    });
    clients.push(c);
    return c;
  };

  it('answers a QMF request from a Python qpid-proton client authenticated with SASL PLAIN', async () => {
    const cpe = listener.connect('cpe');
    const seen: EdgeMessage[] = [];
    await serveQmf(cpe, 'nephele.cpe', seen);
    const out = await qmf(`amqp://mgmt:tok-secret@127.0.0.1:${port}`, 'nephele.cpe', 'deployable_list', {});
    expect(out).toEqual({
      correlation_id: 'py-corr-1',
      properties: { 'qmf.opcode': '_method_response' },
      body: { _arguments: { method: 'deployable_list', echo: {} } },
    });
    expect(seen[0]).toMatchObject({ bodyFormat: 'amqp', principal: 'token-1', replyTo: 'reply.py-client' });
    await cpe.close();
  });

  it('refuses bad credentials and SASL ANONYMOUS', async () => {
    const bad = await qmf(`amqp://mgmt:wrong@127.0.0.1:${port}`, 'nephele.cpe', 'x', {}, ['--timeout', '5']);
    expect(bad).toMatchObject({ error: 'transport', condition: 'amqp:unauthorized-access' });
    const anon = await qmf(`amqp://127.0.0.1:${port}`, 'nephele.cpe', 'x', {}, [
      '--mech',
      'ANONYMOUS',
      '--timeout',
      '5',
    ]);
    expect(anon).toMatchObject({ error: 'transport', condition: 'amqp:unauthorized-access' });
  });

  it('rejects a request that has no reply-to, and the sender sees why', async () => {
    const cpe = listener.connect('cpe2');
    await serveQmf(cpe, 'nephele.cpe');
    const out = await qmf(`amqp://mgmt:tok-secret@127.0.0.1:${port}`, 'nephele.cpe', 'x', {}, [
      '--no-reply-to',
    ]);
    expect(out).toEqual({
      rejected: 'amqp:precondition-failed',
      description: 'a request needs a reply-to address',
    });
    await cpe.close();
  });

  it('lets an agent-like rhea client use only its own addresses, and request/serve both ways', async () => {
    const dpe = listener.connect('dpe');
    const events: EdgeMessage[] = [];
    await dpe.receive('nephele.agent.events.d1', (m) => {
      events.push(m);
      return EdgeOutcomes.accept();
    });
    const agent = client({ id: 'assembly-1', username: 'assembly-1', password: 'a1-secret' });
    await agent.start();
    await agent.serve('nephele.agent.assembly-1', (req) => ({ body: { done: req.body } }));
    await expect(agent.receive('nephele.agent.assembly-2', () => EdgeOutcomes.accept())).rejects.toThrow(
      /may not receive/,
    );
    await expect(agent.send('nephele.cpe', {})).rejects.toThrow(/may not send/);
    await agent.send('nephele.agent.events.d1', { kind: 'heartbeat' }, { ttlMs: 3000 });
    await waitFor(() => events.length === 1, { what: 'the heartbeat' });
    expect(events[0]).toMatchObject({
      body: { kind: 'heartbeat' },
      bodyFormat: 'json',
      principal: 'assembly-1',
    });
    const reply = await dpe.request('nephele.agent.assembly-1', { action: 'start' }, { timeoutMs: 10_000 });
    expect(reply.body).toEqual({ done: { action: 'start' } });
    await dpe.close();
  });

  it('gives a message held by a peer that goes away to the next receiver, delivery-count raised', async () => {
    const mgmt = { username: 'mgmt', password: 'tok-secret' };
    const first = client({ ...mgmt, id: 'first' });
    const second = client({ ...mgmt, id: 'second' });
    await first.start();
    await second.start();
    let firstGot = 0;
    await first.receive('work.q', () => {
      firstGot++;
      return new Promise(() => undefined); // holds it
    });
    const local = listener.connect('producer');
    const sent = local.send('work.q', { job: 7 });
    await waitFor(() => firstGot === 1, { what: 'the first receiver to hold the job' });
    const got: EdgeMessage[] = [];
    await second.receive('work.q', (m) => {
      got.push(m);
      return EdgeOutcomes.accept();
    });
    await first.close();
    await waitFor(() => got.length === 1, { what: 'redelivery to the second receiver' });
    expect(got[0]).toMatchObject({ body: { job: 7 }, deliveryCount: 1 });
    await sent;
    await local.close();
  });

  it('reconnects with backoff when the listener restarts, and re-attaches its receivers', async () => {
    const p2 = await freePort();
    const l2 = new EdgeListener({ port: p2, host: '127.0.0.1', allowAnonymous: true });
    await l2.start();
    const c = client({ url: `amqp://127.0.0.1:${p2}` });
    let connections = 0;
    c.onConnected(() => connections++);
    await c.start();
    const got: unknown[] = [];
    await c.receive('after.restart', (m) => {
      got.push(m.body);
      return EdgeOutcomes.accept();
    });
    await waitFor(() => connections === 1);
    await l2.close();
    await waitFor(() => !c.isConnected(), { what: 'the client to notice' });
    const l3 = new EdgeListener({ port: p2, host: '127.0.0.1', allowAnonymous: true });
    await l3.start();
    await waitFor(() => connections === 2, { what: 'the client to reconnect', timeoutMs: 15_000 });
    const local = l3.connect('x');
    await local.send('after.restart', { again: true });
    await waitFor(() => got.length === 1, { what: 'delivery after reconnect' });
    expect(got).toEqual([{ again: true }]);
    await c.close();
    await l3.close();
  });
});

describe('AMQP 1.0 edge, broker mode (RabbitMQ AMQP 1.0 plugin)', () => {
  let vhost: TestResource;
  let url: string;
  const clients: EdgeConnection[] = [];
  let amqp: amqplib.ChannelModel;

  beforeAll(async () => {
    vhost = await createTestVhost('edge');
    url = vhost.url;
    amqp = await amqplib.connect(url);
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await amqp?.close();
    await vhost?.drop();
  });

  const client = (id: string) => {
    const c = new EdgeClient({ url, id, reconnectBaseMs: 50, reconnectCapMs: 500 });
    clients.push(c);
    return c;
  };

  it('answers a QMF request from the Python client through /queue/nephele.cpe', async () => {
    const cpe = client('cpe');
    await cpe.start();
    await serveQmf(cpe, 'nephele.cpe');
    const out = await qmf(
      'amqp://guest:guest@127.0.0.1:5672',
      '/queue/nephele.cpe',
      'deployable_status',
      { name: 'd' },
      ['--vhost', vhost.name, '--reply-to', '/queue/reply.py-client'],
    );
    expect(out).toEqual({
      correlation_id: 'py-corr-1',
      properties: { 'qmf.opcode': '_method_response' },
      body: { _arguments: { method: 'deployable_status', echo: { name: 'd' } } },
    });
  });

  it('sends JSON to /exchange/nephele.events/<key> that an amqplib consumer reads as plain JSON, and back', async () => {
    const ch = await amqp.createChannel();
    await ch.assertExchange('nephele.events', 'topic', { durable: true });
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'nephele.events', 'nephele.assembly.#');
    const got: amqplib.ConsumeMessage[] = [];
    await ch.consume(q.queue, (m) => m && got.push(m), { noAck: true });
    const edge = client('events');
    await edge.start();
    const event = {
      specversion: '1.0',
      id: 'e1',
      type: 'nephele.assembly.heartbeat',
      data: { assemblyId: 'a1' },
    };
    await edge.send('/exchange/nephele.events/nephele.assembly.heartbeat', event);
    await waitFor(() => got.length === 1, { what: 'the amqplib consumer' });
    expect(JSON.parse(got[0]!.content.toString('utf8'))).toEqual(event);
    expect(got[0]!.properties.contentType).toBe('application/json');
    expect(got[0]!.fields.routingKey).toBe('nephele.assembly.heartbeat');

    // 0-9-1 → 1.0: what amqplib publishes arrives as JSON on an /exchange receiver.
    const seen: EdgeMessage[] = [];
    await edge.receive('/exchange/nephele.events/nephele.service.#', (m) => {
      seen.push(m);
      return EdgeOutcomes.accept();
    });
    ch.publish('nephele.events', 'nephele.service.failed', Buffer.from(JSON.stringify({ x: 1 })), {
      contentType: 'application/json',
    });
    await waitFor(() => seen.length === 1, { what: 'the edge receiver' });
    expect(seen[0]).toMatchObject({ body: { x: 1 }, bodyFormat: 'json', subject: 'nephele.service.failed' });
    await ch.close();
  });

  it('does request/reply between two edges, with its own named reply queue', async () => {
    const server = client('agent-x');
    const requester = client('dpe-x');
    await Promise.all([server.start(), requester.start()]);
    await server.serve('nephele.agent.x', (req) => ({ body: { ok: true, got: req.body } }));
    const reply = await requester.request('nephele.agent.x', { action: 'monitor' }, { timeoutMs: 10_000 });
    expect(reply.body).toEqual({ ok: true, got: { action: 'monitor' } });
    expect(requester.replyAddress).toBe('/queue/reply.dpe-x');
  });

  it('fails one link on a durability mismatch without hurting the others', async () => {
    const edge = client('durable');
    await edge.start();
    const got: unknown[] = [];
    await edge.receive('still.works', (m) => {
      got.push(m.body);
      return EdgeOutcomes.accept();
    });
    await edge.receive('durable.q', () => EdgeOutcomes.accept(), { durable: true });
    await expect(edge.send('durable.q', {})).rejects.toThrow(/inequivalent arg 'durable'/);
    await edge.send('still.works', { fine: true });
    await waitFor(() => got.length === 1);
    expect(edge.isConnected()).toBe(true);
  });

  it('reconnects after its connection to the broker is cut, and re-attaches receivers', async () => {
    // A TCP proxy in front of RabbitMQ lets the test cut this client's connection alone.
    const sockets = new Set<Socket>();
    const proxy = createServer((inbound) => {
      const outbound = connect(5672, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxied = new URL(url);
    proxied.port = String((proxy.address() as AddressInfo).port);
    const edge = new EdgeClient({
      url: proxied.toString(),
      id: 'reconnecting',
      reconnectBaseMs: 50,
      reconnectCapMs: 200,
    });
    clients.push(edge);
    let connections = 0;
    edge.onConnected(() => connections++);
    await edge.start();
    await edge.serve('nephele.reconnect', (req) => ({ body: req.body }));
    await waitFor(() => connections === 1);
    const other = client('other');
    await other.start();
    for (const s of sockets) s.destroy();
    await waitFor(() => connections === 2, { what: 'the edge to reconnect', timeoutMs: 20_000 });
    const reply = await other.request('nephele.reconnect', { back: true }, { timeoutMs: 10_000 });
    expect(reply.body).toEqual({ back: true });
    await edge.close();
    await new Promise((r) => proxy.close(r));
  });
});
