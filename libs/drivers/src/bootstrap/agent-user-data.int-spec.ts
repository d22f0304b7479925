import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeEc2 } from '../../test/fake-ec2.server';
import { FakeOpenStack } from '../../test/fake-openstack.server';
import { createDriver } from '../driver.registry';
import { agentCloudConfig, identityFromCloudConfig } from './agent-cloud-config';

// The agent's #cloud-config through the drivers that boot images: what the provider receives
// (Nova's user_data, EC2's UserData, both base64) is the document cloud-init validates.

const identity = {
  assemblyId: 'dep-7.db.1',
  deployableId: 'dep-7',
  agentSecret: 'assembly-credential',
  amqp10Url: 'amqps://edge.example:5671',
  heartbeatInterval: '5000ms',
};
const userData = agentCloudConfig({
  identity,
  bundle: { url: 'https://nephele.example/v1/agent-bundle', sha256: 'e'.repeat(64), token: 'k'.repeat(43) },
});

function validCloudConfig(doc: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vm-ud-'));
  try {
    writeFileSync(path.join(dir, 'ud.yaml'), doc);
    const r = spawnSync('cloud-init', ['schema', '--config-file', path.join(dir, 'ud.yaml')], {
      encoding: 'utf8',
    });
    return `${r.stdout}${r.stderr}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('agent user data through the image-booting drivers', () => {
  it('openstack: user_data is base64 of the #cloud-config', async () => {
    const fake = await FakeOpenStack.start({ maxServers: 3 });
    const sut = createDriver(
      'openstack',
      { authUrl: fake.authUrl },
      {
        username: 'nephele',
        password: 's3cret',
        projectName: 'demo',
        userDomainName: 'Default',
        projectDomainName: 'Default',
      },
    );
    try {
      expect(sut.capabilities.cloudInit).toBe(true);
      const [image] = await sut.listImages();
      const [flavor] = await sut.listHardwareProfiles();
      const inst = await sut.create({
        idempotencyKey: 'k-os',
        name: 'db-1',
        image: image.id,
        profile: flavor.id,
        userData,
      });
      const post = fake.requests.find((r) => r.method === 'POST' && /\/servers$/.test(r.path))!;
      const sent = (post.body as { server: { user_data: string } }).server.user_data;
      expect(sent).toMatch(/^[A-Za-z0-9+/]+=*$/);
      const received = fake.servers.get(inst.id)!.userData!;
      expect(received).toBe(userData);
      expect(identityFromCloudConfig(received)).toEqual(identity);
      expect(validCloudConfig(received)).toContain('Valid cloud-config');
    } finally {
      await sut.close();
      await fake.close();
    }
  });

  it('ec2: UserData is base64 of the #cloud-config', async () => {
    const fake = await FakeEc2.start({ maxInstances: 3 });
    const sut = createDriver(
      'ec2',
      { region: 'eu-west-1', endpoint: fake.url },
      { accessKeyId: fake.accessKeyId, secretAccessKey: fake.secretAccessKey },
    );
    try {
      expect(sut.capabilities.cloudInit).toBe(true);
      const [image] = await sut.listImages();
      const inst = await sut.create({
        idempotencyKey: 'k-ec2',
        name: 'db-1',
        image: image.id,
        profile: 't3.micro',
        userData,
      });
      const run = fake.requests.find((r) => r.action === 'RunInstances')!.params;
      expect(run.get('UserData')).toBe(Buffer.from(userData, 'utf8').toString('base64'));
      const received = fake.instances.get(inst.id)!.userData!;
      expect(identityFromCloudConfig(received)).toEqual(identity);
      expect(validCloudConfig(received)).toContain('Valid cloud-config');
    } finally {
      await sut.close();
      await fake.close();
    }
  });
});
