import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EdgeListener, EdgeOutcomes } from '@nephele/bus';
import { AgentAddresses, parseAgentEvent } from '@nephele/contracts';
import { agentCloudConfig } from '@nephele/drivers';
import { freePort, waitFor, WORKSPACE_ROOT } from '@nephele/testing';
import { FakeMetadataServer } from '../test/fake-metadata.server';

const run = promisify(execFile);

/**
 * The single-file bundle a guest downloads (tools/images/agent-bundle.mjs): it runs alone (no
 * node_modules beside it), finds its identity in the metadata service's user data and its
 * credential where systemd's LoadCredential= puts it, and heartbeats over the edge.
 */
describe('agent bundle', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-agent-bundle-'));
    bundle = path.join(dir, 'nephele-agent.js');
    await run(process.execPath, ['tools/images/agent-bundle.mjs', bundle], { cwd: WORKSPACE_ROOT });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes its sha256 beside it and answers --version without any environment', async () => {
    const sum = createHash('sha256')
      .update(await readFile(bundle))
      .digest('hex');
    expect(await readFile(`${bundle}.sha256`, 'utf8')).toBe(`${sum}  nephele-agent.js\n`);
    const { stdout } = await run(process.execPath, [bundle, '--version'], { cwd: dir, env: {} });
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('reads its identity from EC2 IMDSv2 and its credential from $CREDENTIALS_DIRECTORY, then heartbeats', async () => {
    const port = await freePort();
    const secret = 'bundle-secret-1';
    const listener = new EdgeListener({
      port,
      host: '127.0.0.1',
      verify: (u, p) =>
        u === 'dep-b.web.1' && p === secret
          ? {
              name: u,
              mayAttach: (role, a) =>
                role === 'receive' ? a === AgentAddresses.commands(u) : a === AgentAddresses.events('dep-b'),
            }
          : null,
    });
    await listener.start();
    // The user data carries no secret: the unit's credential file does.
    const md = await new FakeMetadataServer(
      'ec2',
      agentCloudConfig({
        identity: {
          assemblyId: 'dep-b.web.1',
          deployableId: 'dep-b',
          amqp10Url: `amqp://127.0.0.1:${port}`,
          heartbeatInterval: '200ms',
        },
        bundle: { url: 'http://127.0.0.1:1/b', sha256: '0'.repeat(64), token: 'x'.repeat(20) },
      }),
    ).start();
    const creds = path.join(dir, 'creds');
    await run('mkdir', ['-p', creds]);
    await writeFile(path.join(creds, 'agent-secret'), secret, { mode: 0o600 });
    const dpe = listener.connect('dpe');
    const heartbeats: unknown[] = [];
    await dpe.receive(AgentAddresses.events('dep-b'), (m) => {
      const e = parseAgentEvent(m.body);
      if (e.ok && e.value.kind === 'heartbeat') heartbeats.push(e.value);
      return EdgeOutcomes.accept();
    });
    let output = '';
    const child = spawn(process.execPath, [bundle], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin', NEPHELE_METADATA_URL: md.url, CREDENTIALS_DIRECTORY: creds },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    try {
      await waitFor(() => heartbeats.length >= 2, { what: `heartbeats\n${output}`, timeoutMs: 30_000 });
      expect(heartbeats[0]).toMatchObject({ assemblyId: 'dep-b.web.1', deployableId: 'dep-b' });
      expect(output).toContain('"identityFrom":"ec2"');
      expect(output).not.toContain(secret);
    } finally {
      child.kill('SIGKILL');
      await md.close();
      await listener.close();
    }
  });
});
