import { FakeOpenStack } from '../../test/fake-openstack.server';
import type { CloudDriver, ProviderInstance } from '../cloud-driver.types';
import { DriverError } from '../driver.errors';
import { createDriver } from '../driver.registry';
import { ManualClock } from '../simulated/manual-clock';
import { OpenStackDriver, novaServerState } from './openstack.driver';

// The openstack driver against a local HTTP server speaking Keystone v3, Nova and Glance v2
// (see the shapes and their sources in test/fake-openstack.server.ts).

const CIRROS = '70a599e0-31e7-49b7-b260-868f441e862b';
const credentials = {
  username: 'nephele',
  password: 's3cret',
  projectName: 'demo',
  userDomainName: 'Default',
  projectDomainName: 'Default',
};

async function errorOf(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DriverError) return e;
    throw e;
  }
  throw new Error('expected a DriverError');
}

describe(OpenStackDriver.name, () => {
  let fake: FakeOpenStack;
  let clock: ManualClock;
  let sut: OpenStackDriver;

  beforeEach(async () => {
    fake = await FakeOpenStack.start({ maxServers: 3 });
    clock = new ManualClock(Date.now());
    sut = createDriver(
      'openstack',
      { authUrl: fake.authUrl, region: 'RegionOne', listPageSize: 2 },
      credentials,
      { clock },
    ) as OpenStackDriver;
  });

  afterEach(async () => {
    await sut.close();
    await fake.close();
  });

  it('authenticates with a project-scoped password token and finds endpoints in the catalog', async () => {
    const images = await sut.listImages();
    expect(images.map((i) => i.name)).toEqual(['cirros-0.6', 'debian-12', 'fedora-40']); // two pages of 2
    expect(images[0]).toEqual({ id: CIRROS, name: 'cirros-0.6', status: 'active', arch: 'x86_64' });
    const auth = fake.requests.filter((r) => r.path === '/identity/v3/auth/tokens');
    expect(auth).toHaveLength(1);
    expect(auth[0]!.body).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'nephele', domain: { name: 'Default' }, password: 's3cret' } },
        },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
    const imageCalls = fake.requests.filter((r) => r.path === '/image/v2/images');
    expect(imageCalls).toHaveLength(2);
    for (const r of imageCalls) expect(fake.tokens.has(r.headers['x-auth-token'] as string)).toBe(true);

    expect(await sut.listHardwareProfiles()).toEqual([
      { id: '1', name: 'm1.tiny', cpu: 1, memoryMb: 512, storageGb: 1 },
      { id: '2', name: 'm1.small', cpu: 1, memoryMb: 2048, storageGb: 20 },
      { id: '3', name: 'm1.medium', cpu: 2, memoryMb: 4096, storageGb: 40 },
    ]);
    expect(await sut.listRealms()).toEqual([
      { id: 'nova', name: 'nova', available: true },
      { id: 'az-2', name: 'az-2', available: false },
    ]);
    expect(sut.session.authentications).toBe(1);
  });

  it('renews the token before it expires, and once on a 401', async () => {
    await sut.listRealms();
    clock.advance(60 * 60_000 - 30_000); // within the renewal margin of a one-hour token
    await sut.listRealms();
    expect(sut.session.authentications).toBe(2);

    fake.revokeTokens();
    await sut.listRealms();
    expect(sut.session.authentications).toBe(3);
    expect(fake.count('GET', /os-availability-zone/)).toBe(4); // one 401 and a retry
  });

  it('fails permanently on bad credentials without looping', async () => {
    const bad = createDriver('openstack', { authUrl: fake.authUrl }, { ...credentials, password: 'wrong' });
    expect(await errorOf(bad.listRealms())).toMatchObject({ kind: 'permanent', status: 401 });
    expect(fake.count('POST', /auth\/tokens/)).toBe(1);
  });

  it('creates a server with base64 user data and the idempotency key in metadata, and a retry returns it', async () => {
    const req = {
      idempotencyKey: 'launch-7f3a',
      name: 'web-1',
      image: CIRROS,
      profile: '2',
      userData: '#cloud-config\nruncmd: [echo hi]',
      metadata: { owner: 'alice' },
      realm: 'nova',
    };
    const inst = await sut.create(req);
    expect(inst).toMatchObject({
      name: 'web-1',
      state: 'pending',
      image: CIRROS,
      profile: '2',
      realm: 'nova',
      metadata: { owner: 'alice' },
      idempotencyKey: 'launch-7f3a',
    });

    const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/compute/v2.1/servers')!;
    expect(post.body).toEqual({
      server: {
        name: 'web-1',
        imageRef: CIRROS,
        flavorRef: '2',
        user_data: Buffer.from(req.userData).toString('base64'),
        metadata: { owner: 'alice', nephele_key: 'launch-7f3a' },
        availability_zone: 'nova',
      },
    });
    expect(fake.servers.get(inst.id)!.userData).toBe(req.userData);

    const again = await sut.create(req);
    expect(again.id).toBe(inst.id);
    expect(fake.count('POST', /^\/compute\/v2\.1\/servers$/)).toBe(1);
    // The lookup asked Nova for that exact name.
    const lookups = fake.requests.filter(
      (r) => r.path === '/compute/v2.1/servers/detail' && r.query.has('name'),
    );
    expect(lookups.map((r) => r.query.get('name'))).toEqual(['^web-1$', '^web-1$']);

    fake.setStatus(inst.id, 'ACTIVE');
    expect(await sut.get(inst.id)).toMatchObject({ state: 'running', addresses: ['192.168.0.3'] });
  });

  it('starts, stops, reboots and deletes through server actions', async () => {
    const inst = await sut.create({ idempotencyKey: 'k1', name: 'a', image: CIRROS, profile: '1' });
    fake.setStatus(inst.id, 'ACTIVE');
    await sut.stop(inst.id);
    expect((await sut.get(inst.id))?.state).toBe('stopped');
    await sut.stop(inst.id); // 409 from Nova, but it is already stopped: done
    await sut.start(inst.id);
    expect((await sut.get(inst.id))?.state).toBe('running');
    await sut.reboot(inst.id);
    expect((await sut.get(inst.id))?.state).toBe('rebooting');
    expect(await errorOf(sut.reboot(inst.id))).toMatchObject({ kind: 'conflict', status: 409 });
    const actions = fake.requests.filter((r) => r.path.endsWith('/action')).map((r) => r.body);
    expect(actions).toEqual([
      { 'os-stop': null },
      { 'os-stop': null },
      { 'os-start': null },
      { reboot: { type: 'SOFT' } },
      { reboot: { type: 'SOFT' } },
    ]);

    await sut.destroy(inst.id);
    expect(await sut.get(inst.id)).toBeNull();
    expect(await errorOf(sut.destroy(inst.id))).toMatchObject({ kind: 'not-found', status: 404 });
  });

  it('lists all pages, and with changes-since reports deleted servers as terminated', async () => {
    const made: ProviderInstance[] = [];
    for (let i = 0; i < 3; i++)
      made.push(await sut.create({ idempotencyKey: `k${i}`, name: `vm-${i}`, image: CIRROS, profile: '1' }));
    expect((await sut.list()).map((i) => i.id)).toEqual(made.map((m) => m.id)); // pages of 2
    const since = new Date(Date.now() - 1000);
    await sut.destroy(made[1]!.id);
    const changed = await sut.list({ since });
    expect(changed.find((i) => i.id === made[1]!.id)?.state).toBe('terminated');
    const q = fake.requests.filter(
      (r) => r.path === '/compute/v2.1/servers/detail' && r.query.has('changes-since'),
    );
    expect(q[0]!.query.get('changes-since')).toBe(since.toISOString());
  });

  it('maps provider errors to typed errors', async () => {
    expect(
      await errorOf(sut.create({ idempotencyKey: 'x', name: 'x', image: 'no-such-image', profile: '1' })),
    ).toMatchObject({
      kind: 'permanent',
      status: 400,
    });
    for (let i = 0; i < 3; i++)
      await sut.create({ idempotencyKey: `k${i}`, name: `vm-${i}`, image: CIRROS, profile: '1' });
    const quota = await errorOf(
      sut.create({ idempotencyKey: 'k4', name: 'vm-4', image: CIRROS, profile: '1' }),
    );
    expect(quota).toMatchObject({ kind: 'quota', status: 403, code: 'forbidden' });
    expect(quota.message).toMatch(/Quota exceeded for instances/);

    fake.failNext(
      'GET',
      /servers\/detail/,
      429,
      { overLimit: { code: 429, message: 'Rate limit' } },
      { 'Retry-After': '7' },
    );
    expect(await errorOf(sut.list())).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
    fake.failNext('GET', /servers\/detail/, 413, { overLimit: { code: 413, message: 'OverLimit' } });
    expect(await errorOf(sut.list())).toMatchObject({ kind: 'quota' });
    fake.failNext('GET', /servers\/detail/, 503, {
      computeFault: { code: 503, message: 'Service Unavailable' },
    });
    expect(await errorOf(sut.list())).toMatchObject({ kind: 'transient', status: 503 });
    fake.failNext('GET', /flavors/, 403, { forbidden: { code: 403, message: 'Policy does not allow' } });
    expect(await errorOf(sut.listHardwareProfiles())).toMatchObject({ kind: 'permanent', status: 403 });

    const unreachable = createDriver(
      'openstack',
      { authUrl: 'http://127.0.0.1:1', requestTimeoutMs: 2000 },
      credentials,
    );
    expect(await errorOf(unreachable.listImages())).toMatchObject({ kind: 'transient' });
    const noRegion = createDriver(
      'openstack',
      { authUrl: fake.authUrl, region: 'Mars' },
      credentials,
    ) as CloudDriver;
    expect(await errorOf(noRegion.listImages())).toMatchObject({
      kind: 'permanent',
      code: 'EndpointNotFound',
    });
    expect(() => createDriver('openstack', {}, {})).toThrow(
      /authUrl is required.*password is required|authUrl is required/,
    );
  });

  it('maps Nova statuses and task states', () => {
    expect(novaServerState('BUILD')).toBe('pending');
    expect(novaServerState('ACTIVE')).toBe('running');
    expect(novaServerState('SHUTOFF')).toBe('stopped');
    expect(novaServerState('REBOOT')).toBe('rebooting');
    expect(novaServerState('HARD_REBOOT')).toBe('rebooting');
    expect(novaServerState('DELETED')).toBe('terminated');
    expect(novaServerState('ERROR')).toBe('error');
    expect(novaServerState('ACTIVE', 'deleting')).toBe('terminating');
    expect(novaServerState('ACTIVE', 'powering-off')).toBe('stopping');
    expect(novaServerState('SOMETHING_NEW')).toBe('error');
  });
});
