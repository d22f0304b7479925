import { parse } from 'yaml';
import {
  agentCloudConfig,
  AgentCloudConfigInput,
  identityFromCloudConfig,
  parseAgentUserData,
} from './agent-cloud-config';

const input = (over: Partial<AgentCloudConfigInput['identity']> = {}): AgentCloudConfigInput => ({
  identity: {
    assemblyId: 'd1.web.1',
    deployableId: 'd1',
    agentSecret: 's3cr3t-%h-"quoted"',
    amqp10Url: 'amqp://10.0.2.2:5673',
    heartbeatInterval: '2000ms',
    ...over,
  },
  bundle: {
    url: 'http://10.0.2.2:8082/v1/agent-bundle',
    sha256: 'a'.repeat(64),
    token: 'tok_0123456789abcdef',
  },
});

type File = { path: string; permissions: string; content: string };
const files = (doc: string): File[] => (parse(doc) as { write_files: File[] }).write_files;
const file = (doc: string, path: string) => files(doc).find((f) => f.path === path);

describe('agentCloudConfig', () => {
  it('starts with #cloud-config and runs the bootstrap script once', () => {
    const sut = agentCloudConfig(input());
    expect(sut.split('\n')[0]).toBe('#cloud-config');
    expect((parse(sut) as { runcmd: string[][] }).runcmd).toEqual([
      ['/usr/local/sbin/nephele-agent-bootstrap'],
    ]);
  });

  it('writes the credential to a 0600 file and never into an Environment= line', () => {
    const sut = agentCloudConfig(input());
    expect(file(sut, '/etc/nephele/agent-secret')).toMatchObject({
      permissions: '0600',
      content: 's3cr3t-%h-"quoted"',
    });
    const unit = file(sut, '/etc/systemd/system/nephele-agent.service')!.content;
    expect(unit).toContain('LoadCredential=agent-secret:/etc/nephele/agent-secret');
    expect(unit).not.toContain('s3cr3t');
  });

  it('puts the identity in the unit, quoted for systemd', () => {
    const unit = file(agentCloudConfig(input()), '/etc/systemd/system/nephele-agent.service')!.content;
    expect(unit).toContain('Environment="NEPHELE_ASSEMBLY_ID=d1.web.1"');
    expect(unit).toContain('Environment="NEPHELE_DEPLOYABLE_ID=d1"');
    expect(unit).toContain('Environment="AMQP10_URL=amqp://10.0.2.2:5673"');
    expect(unit).toContain('Environment="NEPHELE_HEARTBEAT_INTERVAL=2000ms"');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node \/opt\/nephele\/agent\.js$/m);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
  });

  it('moves an edge URL with a password out of the unit into a credential file', () => {
    const sut = agentCloudConfig(input({ amqp10Url: 'amqp://agent:pw@rabbit:5672/vh' }));
    const unit = file(sut, '/etc/systemd/system/nephele-agent.service')!.content;
    expect(unit).not.toContain('pw@');
    expect(unit).toContain('LoadCredential=edge-url:/etc/nephele/edge-url');
    expect(file(sut, '/etc/nephele/edge-url')).toMatchObject({ permissions: '0600' });
  });

  it('has no credential file when the assembly has no credential', () => {
    const sut = agentCloudConfig(input({ agentSecret: undefined }));
    expect(file(sut, '/etc/nephele/agent-secret')).toBeUndefined();
    expect(file(sut, '/etc/systemd/system/nephele-agent.service')!.content).not.toContain('LoadCredential');
  });

  it('downloads with the token, checks the sha256 before installing, installs node only when absent', () => {
    const script = file(agentCloudConfig(input()), '/usr/local/sbin/nephele-agent-bootstrap')!;
    expect(script.permissions).toBe('0700');
    const s = script.content;
    expect(s).toContain("token='tok_0123456789abcdef'");
    expect(s).toContain('x-nephele-bundle-token');
    expect(s).toContain(`sum='${'a'.repeat(64)}'`);
    expect(s.indexOf('sha256sum -c')).toBeLessThan(s.indexOf('mv "$tmp" /opt/nephele/agent.js'));
    expect(s).toMatch(/if ! command -v node[^\n]*\n[\s\S]*apt-get install -y -q nodejs/);
    expect(s).toContain('systemctl enable nephele-agent.service');
  });

  it('carries the identity in a comment the agent reads back', () => {
    const sut = agentCloudConfig(input());
    expect(identityFromCloudConfig(sut)).toEqual(input().identity);
    expect(identityFromCloudConfig('#cloud-config\nruncmd: []\n')).toBeNull();
  });

  it('is deterministic', () => {
    expect(agentCloudConfig(input())).toBe(agentCloudConfig(input()));
  });

  it.each([
    ['identity.assemblyId', { identity: { ...input().identity, assemblyId: 'a b' } }],
    ['identity.amqp10Url', { identity: { ...input().identity, amqp10Url: 'http://x' } }],
    ['identity.agentSecret', { identity: { ...input().identity, agentSecret: 'a\nb' } }],
    ['bundle.sha256', { bundle: { ...input().bundle, sha256: 'xyz' } }],
    ['bundle.token', { bundle: { ...input().bundle, token: "x'; rm -rf /" } }],
    ['bundle.url', { bundle: { ...input().bundle, url: "http://x/'" } }],
  ])('refuses a bad %s', (field, over) => {
    expect(() => agentCloudConfig({ ...input(), ...over })).toThrow(field);
  });
});

describe('parseAgentUserData', () => {
  const blob = { assemblyId: 'd.a.1', deployableId: 'd', amqp10Url: 'amqp://h:1', agentSecret: 'x' };

  it('reads the DPE blob as JSON or base64 JSON', () => {
    expect(parseAgentUserData(JSON.stringify(blob))).toEqual(blob);
    expect(parseAgentUserData(Buffer.from(JSON.stringify(blob)).toString('base64'))).toEqual(blob);
  });

  it.each([[undefined], [''], ['#cloud-config\n'], ['{"assemblyId":"x"}'], ['{not json'], ['[1]']])(
    'is null for anything else (%p)',
    (ud) => {
      expect(parseAgentUserData(ud)).toBeNull();
    },
  );
});
