import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type ServerResponse, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@nephele/testing';
import { DriverError } from '../driver.errors';
import { HaproxyDriver, createLoadBalancerDriver } from './haproxy.driver';

// A real HAProxy (Debian's haproxy) started by this test with a frontend, an empty backend and
// an admin stats socket; the members are small HTTP servers in this process.

interface Backend {
  name: string;
  server: Server;
  port: number;
  held: ServerResponse[];
}

async function backend(name: string): Promise<Backend> {
  const b: Backend = { name, server: createServer(), port: 0, held: [] };
  b.server.on('request', (req, res) => {
    if (req.url === '/slow') b.held.push(res);
    else res.end(name);
  });
  await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
  b.port = (b.server.address() as AddressInfo).port;
  return b;
}

function release(b: Backend): void {
  for (const res of b.held.splice(0)) res.end(b.name);
}

/** One request through HAProxy on a fresh connection; resolves with status and body. */
function request(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function hits(port: number, n: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { body } = await request(port);
    out[body] = (out[body] ?? 0) + 1;
  }
  return out;
}

describe(HaproxyDriver.name, () => {
  let dir: string;
  let haproxy: ChildProcess;
  let output = '';
  let frontPort: number;
  let a: Backend;
  let b: Backend;
  let sut: HaproxyDriver;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-haproxy-'));
    frontPort = await freePort();
    const socketPath = path.join(dir, 'admin.sock');
    writeFileSync(
      path.join(dir, 'haproxy.cfg'),
      [
        'global',
        `  stats socket ${socketPath} mode 600 level admin`,
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 30s',
        '  timeout server 30s',
        'frontend fe',
        `  bind 127.0.0.1:${frontPort}`,
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        '  http-reuse never',
        '',
      ].join('\n'),
    );
    haproxy = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    haproxy.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    haproxy.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    sut = createLoadBalancerDriver('haproxy', {
      socketPath,
      drainTimeoutMs: 5_000,
      pollMs: 20,
    }) as HaproxyDriver;
    await waitFor(() => sut.client.command('show info').then((s) => s.includes('Name: HAProxy')), {
      what: `haproxy to answer on its socket (output: ${output})`,
    });
    [a, b] = await Promise.all([backend('a'), backend('b')]);
  });

  afterAll(async () => {
    for (const x of [a, b]) {
      if (!x) continue;
      release(x);
      x.server.closeAllConnections();
      await new Promise((r) => x.server.close(r));
    }
    if (haproxy?.exitCode === null) {
      haproxy.kill('SIGTERM');
      await new Promise((r) => haproxy.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with an empty pool that answers 503', async () => {
    expect(await sut.listMembers('app')).toEqual([]);
    expect((await request(frontPort)).status).toBe(503);
  });

  it('adds members that then receive requests through the frontend', async () => {
    const added = await sut.addMember('app', { name: 'a', address: '127.0.0.1', port: a.port });
    expect(added).toEqual({
      name: 'a',
      address: '127.0.0.1',
      port: a.port,
      weight: 1,
      state: 'ready',
      up: true,
      sessions: 0,
    });
    await sut.addMember('app', { name: 'b', address: '127.0.0.1', port: b.port, weight: 1 });
    expect((await sut.listMembers('app')).map((m) => [m.name, m.state])).toEqual([
      ['a', 'ready'],
      ['b', 'ready'],
    ]);
    expect(await hits(frontPort, 10)).toEqual({ a: 5, b: 5 });

    // Same name, same address: nothing to do. Same name elsewhere: conflict.
    await expect(
      sut.addMember('app', { name: 'a', address: '127.0.0.1', port: a.port }),
    ).resolves.toMatchObject({ name: 'a' });
    await expect(sut.addMember('app', { name: 'a', address: '127.0.0.1', port: 1 })).rejects.toMatchObject({
      kind: 'conflict',
    });
  });

  it('drains a member: no new requests, and waits for its open sessions', async () => {
    // Park one request on a (round robin may send the first to b; park until a holds one).
    const parked: Promise<unknown>[] = [];
    while (a.held.length === 0) {
      parked.push(request(frontPort, '/slow'));
      await waitFor(() => a.held.length + b.held.length === parked.length, {
        what: 'the slow request to arrive',
      });
    }
    const busy = await sut.drainMember('app', 'a', { timeoutMs: 200 });
    expect(busy).toEqual({ drained: false, sessions: 1 });
    expect((await sut.listMembers('app')).find((m) => m.name === 'a')).toMatchObject({
      state: 'drain',
      sessions: 1,
    });

    expect(await hits(frontPort, 6)).toEqual({ b: 6 });

    release(a);
    release(b);
    await Promise.all(parked);
    expect(await sut.drainMember('app', 'a')).toEqual({ drained: true, sessions: 0 });

    await sut.readyMember('app', 'a');
    expect(await hits(frontPort, 4)).toEqual({ a: 2, b: 2 });
  });

  it('removes a member', async () => {
    await sut.removeMember('app', 'a', { timeoutMs: 1_000 });
    expect((await sut.listMembers('app')).map((m) => m.name)).toEqual(['b']);
    expect(await hits(frontPort, 4)).toEqual({ b: 4 });
  });

  it('with health checks, reports a member up once a check passed, and one that never listens never', async () => {
    const checked = createLoadBalancerDriver('haproxy', {
      socketPath: path.join(dir, 'admin.sock'),
      healthCheck: true,
      checkInterMs: 100,
      checkRise: 1,
      checkFall: 1,
    });
    const closed = await freePort();
    const added = await checked.addMember('app', { name: 'c', address: '127.0.0.1', port: b.port });
    // HAProxy runs a new checked server before its first check: that is not up yet.
    expect(added.up).toBe(false);
    await checked.addMember('app', { name: 'dead', address: '127.0.0.1', port: closed });
    const upOf = async () =>
      Object.fromEntries((await checked.listMembers('app')).map((m) => [m.name, m.up]));
    await waitFor(async () => (await upOf()).c === true, { what: 'member c up' });
    // Checked many times meanwhile, the dead one never was up.
    for (let i = 0; i < 5; i++) {
      expect((await upOf()).dead).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await upOf()).c).toBe(true);
    await checked.removeMember('app', 'c', { timeoutMs: 0 });
    await checked.removeMember('app', 'dead', { timeoutMs: 0 });
    expect(() => createLoadBalancerDriver('haproxy', { socketPath: 'x', checkInterMs: 0 })).toThrow(
      /checkInterMs/,
    );
  });

  it('answers with typed errors and refuses command injection', async () => {
    const err = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as DriverError,
      );
    expect(await err(sut.listMembers('nope'))).toMatchObject({ kind: 'not-found' });
    expect(await err(sut.removeMember('app', 'zz'))).toMatchObject({ kind: 'not-found' });
    expect(await err(sut.drainMember('app', 'zz'))).toMatchObject({ kind: 'not-found' });
    expect(
      await err(sut.addMember('app', { name: 'x;shutdown', address: '127.0.0.1', port: 80 })),
    ).toMatchObject({ kind: 'permanent' });
    expect(
      await err(sut.addMember('app', { name: 'x', address: '127.0.0.1\nshow info', port: 80 })),
    ).toMatchObject({ kind: 'permanent' });
    expect(() => createLoadBalancerDriver('haproxy', {})).toThrow(/socketPath/);
    expect(haproxy.exitCode).toBeNull();
  });
});
