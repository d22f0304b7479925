import { connect as netConnect } from 'node:net';
import { Connection, create_container, EventContext, Message } from 'rhea';
import { freePort, waitFor } from '@nephele/testing';
import { agentPrincipal, managementPrincipal, unverifiedAgentVerifier } from './edge-auth';
import { EdgeListener } from './edge-listener';
import { EdgeMessage, EdgeOutcomes } from './edge.types';

type Refusal = { condition?: string; description?: string };
/** An AMQP error as rhea hands it over: decoded, or (connection close) a described list. */
function errorOf(e: unknown): Refusal {
  const x = e as { condition?: unknown; description?: unknown; value?: { value?: unknown }[] } | undefined;
  if (x && Array.isArray(x.value) && x.condition === undefined) {
    return { condition: String(x.value[0]?.value ?? ''), description: String(x.value[1]?.value ?? '') };
  }
  return {
    condition: typeof x?.condition === 'string' ? x.condition : undefined,
    description: typeof x?.description === 'string' ? x.description : undefined,
  };
}

/** A raw rhea peer: what the listener answers, with the AMQP conditions. */
async function peer(port: number, username: string, password: string) {
  const c = create_container({ id: `p-${Math.random().toString(36).slice(2, 8)}` });
  const conn: Connection = c.connect({ host: '127.0.0.1', port, username, password, reconnect: false });
  const state: { closed?: Refusal } = {};
  conn.on('connection_close', (ctx: EventContext) => (state.closed ??= errorOf(ctx.connection.error)));
  conn.on('disconnected', () => (state.closed ??= { condition: 'disconnected' }));
  conn.on('connection_error', () => undefined);
  conn.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    conn.once('connection_open', () =>
      setTimeout(() => (state.closed ? reject(state.closed) : resolve()), 100),
    );
    conn.once('connection_close', () => reject(state.closed));
    conn.once('disconnected', () => reject(state.closed ?? { condition: 'disconnected' }));
  });
  const send = (address: string, msg: Message) =>
    new Promise<{ accepted: boolean } & Refusal>((resolve) => {
      const s = conn.open_sender({ target: { address } });
      s.on('sender_error', () => undefined);
      s.once('sendable', () => void s.send(msg));
      s.once('accepted', () => resolve({ accepted: true }));
      s.once('rejected', (ctx: EventContext) =>
        resolve({ accepted: false, ...errorOf((ctx.delivery?.remote_state as { error?: unknown })?.error) }),
      );
      s.once('sender_close', () => resolve({ accepted: false, ...errorOf(s.error) }));
      conn.once('connection_close', () => resolve({ accepted: false, ...state.closed }));
      conn.once('disconnected', () => resolve({ accepted: false, ...state.closed }));
    });
  const receive = (address: string) =>
    new Promise<void>((resolve, reject) => {
      const r = conn.open_receiver({ source: { address } });
      let refused = false;
      r.once('receiver_open', () => setTimeout(() => refused || resolve(), 100));
      r.once('receiver_close', () => {
        refused = true;
        reject(errorOf(r.error));
      });
      r.on('receiver_error', () => undefined);
    });
  return { conn, state, send, receive, close: () => conn.close() };
}

/** The listener's authentication, authorisation and bounds, through real AMQP 1.0 connections. */
describe('EdgeListener authentication and bounds (AMQP 1.0 peers over TCP)', () => {
  let sut: EdgeListener;
  let port: number;
  const valid = new Map<string, boolean>([
    ['member-token', true],
    ['viewer-token', true],
  ]);
  const seen: EdgeMessage[] = [];

  beforeAll(async () => {
    port = await freePort();
    sut = new EdgeListener({
      port,
      host: '127.0.0.1',
      maxMessageBytes: 64 * 1024,
      maxConnectionsPerPrincipal: 2,
      revalidateIntervalMs: 100,
    });
    sut.auth.add('tokens', (_u, password) =>
      valid.get(password)
        ? managementPrincipal(
            {
              tokenId: `id-${password}`,
              role: password.startsWith('viewer') ? 'viewer' : 'member',
              project: 'p1',
            },
            async () => valid.get(password) === true,
          )
        : null,
    );
    sut.auth.add('agents', (u, p) => (p === 'agent-secret' ? agentPrincipal(u, u.split('.')[0]!) : null));
    sut.auth.add('agent-interim', unverifiedAgentVerifier());
    await sut.start();
    const cpe = sut.connect('cpe');
    await cpe.receive('nephele.cpe', (m) => {
      seen.push(m);
      return EdgeOutcomes.accept();
    });
  });
  afterAll(() => sut.close());

  it('asks the verifiers in order and refuses a login none accepts', async () => {
    expect(sut.auth.names()).toEqual(['tokens', 'agents', 'agent-interim']);
    await expect(peer(port, 'x', 'wrong')).rejects.toBeDefined();
    const ok = await peer(port, 'x', 'member-token');
    ok.close();
  });

  it('stamps the claims of the login on each message, over whatever the peer claimed', async () => {
    const p = await peer(port, 'admin', 'member-token');
    const r = await p.send('nephele.cpe', {
      body: 'hi',
      message_annotations: {
        'x-nephele-claims': { role: 'admin', tokenId: 'bootstrap' },
        'x-nephele-principal': 'me',
      },
    });
    expect(r.accepted).toBe(true);
    await waitFor(() => seen.length > 0, { what: 'the request' });
    expect(seen.at(-1)).toMatchObject({
      principal: 'token:id-member-token',
      claims: { tokenId: 'id-member-token', role: 'member', project: 'p1' },
    });
    p.close();
  });

  it('lets a token use nephele.cpe and its own reply address only; agents their own addresses', async () => {
    const p = await peer(port, 'u', 'member-token');
    await expect(p.receive('nephele.agent.d1.a1.1')).rejects.toMatchObject({
      condition: 'amqp:unauthorized-access',
    });
    expect(await p.send('nephele.agent.d1.a1.1', { body: 'start' })).toMatchObject({
      accepted: false,
      condition: 'amqp:unauthorized-access',
    });
    expect(await p.send('some.queue', { body: 'park' })).toMatchObject({ accepted: false });
    await p.receive('reply.mine');
    const q = await peer(port, 'u', 'viewer-token');
    await expect(q.receive('reply.mine')).rejects.toMatchObject({ condition: 'amqp:resource-locked' });
    expect(await q.send('reply.mine', { body: 'forged' })).toMatchObject({ accepted: false });
    await expect(q.receive('reply.cpe')).rejects.toMatchObject({ condition: 'amqp:resource-locked' });

    const agent = await peer(port, 'd1.a1.1', 'agent-secret');
    await agent.receive('nephele.agent.d1.a1.1');
    await expect(agent.receive('nephele.agent.d1.a2.1')).rejects.toMatchObject({
      condition: 'amqp:unauthorized-access',
    });
    // An agent answers the in-process DPE's reply address, never a remote peer's.
    expect(await agent.send('reply.mine', { body: 'forged' })).toMatchObject({ accepted: false });
    for (const x of [p, q, agent]) x.close();
  });

  it('lets an agent without a secret in as its assembly (rhea: SASL ANONYMOUS with its id), scoped to it', async () => {
    const assembly = '0f0e0d0c-0b0a-4908-8706-050403020100.web.2';
    const a = await peer(port, assembly, '');
    await a.receive(`nephele.agent.${assembly}`);
    await expect(a.receive('nephele.agent.0f0e0d0c-0b0a-4908-8706-050403020100.db.1')).rejects.toMatchObject({
      condition: 'amqp:unauthorized-access',
    });
    a.close();
    // Not an assembly id: no login.
    await expect(peer(port, 'somebody', '')).rejects.toBeDefined();
  });

  it('caps the connections of one credential', async () => {
    const a = await peer(port, 'u', 'viewer-token');
    const b = await peer(port, 'u', 'viewer-token');
    await expect(peer(port, 'u', 'viewer-token')).rejects.toMatchObject({
      condition: 'amqp:resource-limit-exceeded',
    });
    a.close();
    b.close();
  });

  it('closes the connection of a message above the size limit, and a frame above it, unbuffered', async () => {
    const p = await peer(port, 'u', 'member-token');
    const r = await p.send('nephele.cpe', { body: Buffer.alloc(1024 * 1024, 1) });
    expect(r.accepted).toBe(false);
    await waitFor(() => p.state.closed !== undefined, { what: 'the close' });
    expect(p.state.closed).toMatchObject({ condition: 'amqp:link:message-size-exceeded' });
    // A peer that declares a 64 MB frame loses its socket before sending it.
    const socket = netConnect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise((r) => socket.once('close', r));
    const frame = Buffer.alloc(8);
    frame.writeUInt32BE(64 * 1024 * 1024, 0);
    socket.write(Buffer.concat([Buffer.from('AMQP\u0000\u0001\u0000\u0000', 'latin1'), frame]));
    await closed;
  });

  it('refuses the next message of a revoked credential and closes its connection', async () => {
    valid.set('revoked-token', true);
    const p = await peer(port, 'u', 'revoked-token');
    expect(await p.send('nephele.cpe', { body: 'before' })).toMatchObject({ accepted: true });
    valid.set('revoked-token', false);
    const after = await p.send('nephele.cpe', { body: 'after' });
    expect(after.accepted).toBe(false);
    await waitFor(() => p.state.closed !== undefined, { what: 'the close' });
    expect(p.state.closed).toMatchObject({ condition: 'amqp:unauthorized-access' });
    // An idle connection goes too.
    valid.set('idle-token', true);
    const idle = await peer(port, 'u', 'idle-token');
    valid.set('idle-token', false);
    await waitFor(() => idle.state.closed !== undefined, { what: 'the idle close' });
    expect(idle.state.closed).toMatchObject({ condition: 'amqp:unauthorized-access' });
  });
});
