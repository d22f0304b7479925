import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { agentCloudConfig } from './agent-cloud-config';

// Debian's cloud-init (apt-get install cloud-init; .ci/run installs it) is the judge of the
// generated documents, and sh -n of the script they run.
describe('agentCloudConfig against cloud-init schema', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vm-cloud-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, Parameters<typeof agentCloudConfig>[0]]> = [
    [
      'listener edge with a credential',
      {
        identity: {
          assemblyId: 'd1.web.1',
          deployableId: 'd1',
          agentSecret: 'c2VjcmV0: "with" \'quotes\' %n',
          amqp10Url: 'amqp://10.0.2.2:5673',
          heartbeatInterval: '5000ms',
        },
        bundle: {
          url: 'http://10.0.2.2:8082/v1/agent-bundle',
          sha256: 'f'.repeat(64),
          token: 'A'.repeat(43),
        },
      },
    ],
    [
      'RabbitMQ edge without a credential',
      {
        identity: { assemblyId: 'x.y.2', deployableId: 'x', amqp10Url: 'amqps://u:p@rabbit:5671/vh' },
        bundle: {
          url: 'https://nephele.example/v1/agent-bundle',
          sha256: '0'.repeat(64),
          token: 'b'.repeat(20),
        },
      },
    ],
  ];

  it.each(cases)('is a valid cloud-config (%s)', (name, input) => {
    const doc = agentCloudConfig(input);
    const f = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(f, doc);
    const r = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('Valid cloud-config');
    expect(r.status).toBe(0);

    const script = (parse(doc) as { write_files: Array<{ path: string; content: string }> }).write_files.find(
      (w) => w.path === '/usr/local/sbin/nephele-agent-bootstrap',
    )!.content;
    const s = path.join(dir, 'bootstrap.sh');
    writeFileSync(s, script);
    expect(() => execFileSync('sh', ['-n', s])).not.toThrow();
  });

  it('cloud-init refuses a broken document (the check can fail)', () => {
    const f = path.join(dir, 'broken.yaml');
    writeFileSync(f, '#cloud-config\nwrite_files: 12\n');
    const r = spawnSync('cloud-init', ['schema', '--config-file', f], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });
});
