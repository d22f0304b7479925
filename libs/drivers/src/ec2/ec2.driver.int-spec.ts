import { FakeEc2 } from '../../test/fake-ec2.server';
import type { ProviderInstance } from '../cloud-driver.types';
import { DriverError } from '../driver.errors';
import { createDriver } from '../driver.registry';
import { Ec2Driver, ec2ClientToken, ec2InstanceState } from './ec2.driver';

// The ec2 driver through @aws-sdk/client-ec2 against a local server speaking the EC2 Query API
// (SigV4-checked; shapes and sources in test/fake-ec2.server.ts).

const AMI = 'ami-0a1b2c3d4e5f60718';

async function errorOf(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DriverError) return e;
    throw e;
  }
  throw new Error('expected a DriverError');
}

describe(Ec2Driver.name, () => {
  let fake: FakeEc2;
  let sut: Ec2Driver;

  beforeEach(async () => {
    fake = await FakeEc2.start({ maxInstances: 3 });
    sut = createDriver(
      'ec2',
      { region: 'eu-west-1', endpoint: fake.url, listPageSize: 5 },
      { accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey },
    ) as Ec2Driver;
  });

  afterEach(async () => {
    await sut.close();
    await fake.close();
  });

  it('lists images, instance types and zones', async () => {
    expect(await sut.listImages()).toEqual([
      { id: AMI, name: 'debian-12-amd64', status: 'available', arch: 'x86_64' },
      { id: 'ami-085db1cec0123abcd', name: 'nephele-agent', status: 'available', arch: 'x86_64' },
    ]);
    expect(fake.requests.find((r) => r.action === 'DescribeImages')!.params.get('Owner.1')).toBe('self');
    expect(await sut.listHardwareProfiles()).toEqual([
      { id: 't3.micro', name: 't3.micro', cpu: 2, memoryMb: 1024, storageGb: 0, arch: 'x86_64' },
      { id: 't3.small', name: 't3.small', cpu: 2, memoryMb: 2048, storageGb: 0, arch: 'x86_64' },
      { id: 'm5.large', name: 'm5.large', cpu: 2, memoryMb: 8192, storageGb: 0, arch: 'x86_64' },
    ]);
    expect(await sut.listRealms()).toEqual([
      { id: 'eu-west-1a', name: 'eu-west-1a', available: true },
      { id: 'eu-west-1b', name: 'eu-west-1b', available: false },
    ]);
  });

  it('runs an instance with the idempotency key as ClientToken and tags, once per key', async () => {
    const req = {
      idempotencyKey: 'launch-1',
      name: 'web-1',
      image: AMI,
      profile: 't3.small',
      userData: '#!/bin/sh\necho hi',
      metadata: { owner: 'alice' },
      realm: 'eu-west-1b',
    };
    const inst = await sut.create(req);
    expect(inst).toMatchObject({
      name: 'web-1',
      state: 'pending',
      image: AMI,
      profile: 't3.small',
      realm: 'eu-west-1b',
      metadata: { owner: 'alice' },
      idempotencyKey: 'launch-1',
      addresses: ['172.31.0.10'],
    });
    const run = fake.requests.find((r) => r.action === 'RunInstances')!.params;
    expect(run.get('ClientToken')).toBe('launch-1');
    expect(Buffer.from(run.get('UserData')!, 'base64').toString()).toBe(req.userData);
    expect(fake.instances.get(inst.id)!.tags).toEqual({
      Name: 'web-1',
      'nephele:idempotency-key': 'launch-1',
      owner: 'alice',
    });

    expect((await sut.create(req)).id).toBe(inst.id);
    expect(fake.count('RunInstances')).toBe(1);
    expect(ec2ClientToken('x'.repeat(65))).toHaveLength(64);
  });

  it('starts, stops, reboots, terminates and lists across pages', async () => {
    const made: ProviderInstance[] = [];
    for (let i = 0; i < 3; i++)
      made.push(
        await sut.create({ idempotencyKey: `k${i}`, name: `vm-${i}`, image: AMI, profile: 't3.micro' }),
      );
    fake.settle();
    const id = made[0]!.id;
    expect((await sut.get(id))?.state).toBe('running');
    await sut.reboot(id);
    await sut.stop(id);
    expect((await sut.get(id))?.state).toBe('stopping');
    fake.settle();
    expect((await sut.get(id))?.state).toBe('stopped');
    await sut.start(id);
    expect((await sut.get(id))?.state).toBe('pending');
    expect(await errorOf(sut.reboot(id))).toMatchObject({ kind: 'conflict' });
    await sut.destroy(made[1]!.id);
    expect((await sut.get(made[1]!.id))?.state).toBe('terminating');

    for (let i = 0; i < 4; i++)
      fake.instances.set(`i-extra${i}`, {
        ...fake.instances.get(id)!,
        id: `i-extra${i}`,
        clientToken: `x${i}`,
      });
    const all = await sut.list();
    expect(all).toHaveLength(7);
    expect(fake.count('DescribeInstances')).toBeGreaterThanOrEqual(2);
    expect(sut.capabilities.listSince).toBe(false);
  });

  it('maps EC2 errors to typed errors', async () => {
    expect(await sut.get('i-00000000000000bad')).toBeNull();
    expect(await errorOf(sut.destroy('i-00000000000000bad'))).toMatchObject({
      kind: 'not-found',
      code: 'InvalidInstanceID.NotFound',
      status: 400,
    });
    for (let i = 0; i < 3; i++)
      await sut.create({ idempotencyKey: `k${i}`, name: `vm-${i}`, image: AMI, profile: 't3.micro' });
    expect(
      await errorOf(sut.create({ idempotencyKey: 'k9', name: 'x', image: AMI, profile: 't3.micro' })),
    ).toMatchObject({ kind: 'quota', code: 'InstanceLimitExceeded' });
    fake.failNext('DescribeInstances', 503, 'RequestLimitExceeded', 'Request limit exceeded.');
    expect(await errorOf(sut.list())).toMatchObject({ kind: 'rate-limited', retryAfterMs: 1000 });
    fake.failNext('DescribeInstances', 500, 'InternalError');
    expect(await errorOf(sut.list())).toMatchObject({ kind: 'transient' });
    expect(
      await errorOf(sut.create({ idempotencyKey: 'k8', name: 'x', image: 'ami-nope', profile: 't3.micro' })),
    ).toMatchObject({ kind: 'permanent' });

    const wrongSecret = createDriver(
      'ec2',
      { region: 'eu-west-1', endpoint: fake.url },
      { accessKeyId: fake.accessKeyId, secretAccessKey: 'wrong' },
    );
    expect(await errorOf(wrongSecret.listRealms())).toMatchObject({
      kind: 'permanent',
      code: 'AuthFailure',
      status: 401,
    });
    await wrongSecret.close();
    expect(ec2InstanceState('shutting-down')).toBe('terminating');
  });
});
