import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { agentCloudConfig } from '@nephele/drivers';
import { FakeMetadataServer } from '../../test/fake-metadata.server';
import { resolveAgentConfig } from './identity';

const identity = {
  assemblyId: 'dep-9.web.1',
  deployableId: 'dep-9',
  agentSecret: 'per-assembly-secret',
  amqp10Url: 'amqp://10.0.2.2:5673',
  heartbeatInterval: '700ms',
};
const cloudConfig = agentCloudConfig({
  identity,
  bundle: { url: 'http://10.0.2.2:8082/v1/agent-bundle', sha256: 'c'.repeat(64), token: 't'.repeat(32) },
});

describe(resolveAgentConfig.name, () => {
  let servers: FakeMetadataServer[] = [];
  const serve = async (kind: 'openstack' | 'ec2', ud: string | null) => {
    const s = await new FakeMetadataServer(kind, ud).start();
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });

  it('reads the identity from OpenStack metadata (meta_data.json, then user data)', async () => {
    const md = await serve('openstack', cloudConfig);
    const sut = await resolveAgentConfig({ NEPHELE_METADATA_URL: md.url });
    expect(sut.source).toBe('openstack');
    expect(sut.config).toMatchObject({
      assemblyId: 'dep-9.web.1',
      deployableId: 'dep-9',
      secret: 'per-assembly-secret',
      edgeUrl: 'amqp://10.0.2.2:5673',
      heartbeatIntervalMs: 700,
    });
    expect(md.requests).toEqual(['GET /openstack/latest/meta_data.json', 'GET /openstack/latest/user_data']);
  });

  it('reads the identity from EC2 IMDSv2 (PUT token, then GET with it), after OpenStack answers 404', async () => {
    const md = await serve('ec2', JSON.stringify(identity));
    const sut = await resolveAgentConfig({ NEPHELE_METADATA_URL: md.url });
    expect(sut.source).toBe('ec2');
    expect(sut.config).toMatchObject({ assemblyId: 'dep-9.web.1', secret: 'per-assembly-secret' });
    expect(md.requests).toEqual([
      'GET /openstack/latest/meta_data.json',
      'PUT /latest/api/token',
      'GET /latest/user-data',
      'GET /latest/meta-data/instance-id',
    ]);
  });

  it('asks only the kind it is told to', async () => {
    const md = await serve('ec2', cloudConfig);
    const sut = await resolveAgentConfig({ NEPHELE_METADATA_URL: md.url, NEPHELE_METADATA: 'ec2' });
    expect(sut.config.assemblyId).toBe('dep-9.web.1');
    expect(md.requests[0]).toBe('PUT /latest/api/token');
  });

  it('does not ask when the environment has the identity, or when told not to', async () => {
    const md = await serve('openstack', cloudConfig);
    const sut = await resolveAgentConfig({
      NEPHELE_METADATA_URL: md.url,
      NEPHELE_ASSEMBLY_ID: 'a.b.1',
      NEPHELE_DEPLOYABLE_ID: 'a',
    });
    expect(sut).toMatchObject({ source: 'environment', config: { assemblyId: 'a.b.1' } });
    await expect(
      resolveAgentConfig({ NEPHELE_METADATA_URL: md.url, NEPHELE_METADATA: 'off' }),
    ).rejects.toThrow(/NEPHELE_ASSEMBLY_ID: required/);
    expect(md.requests).toEqual([]);
  });

  it('fails naming the variables when no metadata service has user data', async () => {
    const md = await serve('openstack', null);
    await expect(
      resolveAgentConfig({ NEPHELE_METADATA_URL: md.url, NEPHELE_METADATA: 'openstack' }),
    ).rejects.toThrow(/NEPHELE_ASSEMBLY_ID[\s\S]*NEPHELE_DEPLOYABLE_ID/);
  }, 30_000);

  it('takes the credential and a secret edge URL from systemd credentials (LoadCredential=)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vm-creds-'));
    try {
      await writeFile(path.join(dir, 'agent-secret'), 'from-credential-file\n', { mode: 0o600 });
      await writeFile(path.join(dir, 'edge-url'), 'amqp://agent:pw@rabbit:5672/v\n', { mode: 0o600 });
      const sut = await resolveAgentConfig({
        CREDENTIALS_DIRECTORY: dir,
        NEPHELE_ASSEMBLY_ID: 'a.b.1',
        NEPHELE_DEPLOYABLE_ID: 'a',
      });
      expect(sut.config).toMatchObject({
        secret: 'from-credential-file',
        edgeUrl: 'amqp://agent:pw@rabbit:5672/v',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
