import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApps, freePort, ServiceProcess, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const TOKEN = 'cli-e2e-admin-token-0123456789abcdef0123';
const CLI = path.join(WORKSPACE_ROOT, 'dist/apps/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI as a user runs it, with a clean environment (only what each test gives). */
describe('nephele CLI against the all-in-one (E2E)', () => {
  let svc: ServiceProcess;
  let dir: string;
  const outputs: string[] = [];

  const start = (args: string[], o: { env?: Record<string, string | undefined>; input?: string } = {}) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir };
    const given = {
      NEPHELE_URL: svc.url,
      NEPHELE_TOKEN: TOKEN,
      NEPHELE_CONFIG: path.join(dir, 'config.json'),
      ...o.env,
    };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const r: Run = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (b: Buffer) => (r.stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (r.stderr += b.toString()));
    child.stdin.end(o.input ?? '');
    const done = new Promise<Run>((resolve) =>
      child.once('close', (code) => {
        r.code = code;
        outputs.push(r.stdout, r.stderr);
        resolve(r);
      }),
    );
    return { child, r, done };
  };
  const nephele = (args: string[], o: { env?: Record<string, string | undefined>; input?: string } = {}) =>
    start(args, o).done;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeAll(async () => {
    buildApps('nephele', 'agent', 'cli');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-cli-e2e-'));
    svc = await ServiceProcess.start('nephele', {
      PORT: String(await freePort()),
      NEPHELE_EDGE_PORT: String(await freePort()),
      NEPHELE_DATA_DIR: path.join(dir, 'data'),
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    // The all-in-one seeds its default world just after it starts listening.
    await waitFor(
      async () => {
        const r = await fetch(`${svc.url}/v1/hardware-profiles?name=small`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return r.ok && ((await r.json()) as any).items.length === 1;
      },
      { timeoutMs: 30_000, what: 'the seeded default project' },
    );
  }, 180_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the seeded project, pool, image and profile as tables and as JSON', async () => {
    const projects = await nephele(['project', 'list']);
    expect(projects).toMatchObject({ code: 0, stderr: '' });
    expect(projects.stdout).toMatch(/^ID\s+NAME\s+DESCRIPTION\n[0-9a-f-]{36}\s+default\s+-\n$/);

    const pools = await nephele(['pool', 'list', '-o', 'json']);
    expect(pools.code).toBe(0);
    const items = JSON.parse(pools.stdout) as any[];
    expect(items.map((p) => p.name)).toEqual(['default']);
    expect(items[0]).toMatchObject({ enabled: true, familyId: expect.any(String) });

    const images = await nephele(['image', 'list']);
    expect(images.stdout).toMatch(
      /^ID\s+NAME\s+OS\s+ARCH\s+PROJECT\n[0-9a-f-]{36}\s+debian-12\s+linux\s+x86_64\s/,
    );
    const profile = await nephele(['profile', 'get', 'small']);
    expect(profile.code).toBe(0);
    expect(profile.stdout).toMatch(/^name:\s+small$/m);
    expect((await nephele(['--output', 'json', 'provider', 'list'])).stdout).toContain('"kind": "local"');
  });

  it('creates and deletes a resource by name, then reports it not found', async () => {
    const created = await nephele([
      'image',
      'create',
      '--name',
      'cli-img',
      '--os',
      'linux',
      '--arch',
      'aarch64',
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^arch:\s+aarch64$/m);
    expect(await nephele(['image', 'delete', 'cli-img'])).toMatchObject({
      code: 0,
      stdout: 'image cli-img deleted\n',
    });
    expect(await nephele(['image', 'get', 'cli-img'])).toMatchObject({
      code: 1,
      stderr: 'error: image "cli-img" not found\n',
    });
    const bad = await nephele(['pool', 'create', '--name', 'bad/name', '--family', 'local']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: Bad Request: validation failed (HTTP 400)\n  name: name must be');
  });

  const DEMO = `apiVersion: nephele/v1
kind: Deployable
name: cli-demo
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - name: sleeper
        class: process
        command: ["sleep", "1000"]
`;

  it('applies a YAML deployable (create, then a new version), lists it and shows its status', async () => {
    const f = file('demo.yaml', DEMO);
    const created = await nephele(['deployable', 'apply', '-f', f]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /^deployable cli-demo created \(id [0-9a-f-]{36}, version 1, status \w+\)\n$/,
    );

    // The same document again stores nothing.
    expect(await nephele(['deployable', 'apply', '-f', f])).toMatchObject({
      code: 0,
      stdout: 'deployable cli-demo unchanged (version 1)\n',
    });
    const updated = await nephele(['deployable', 'apply', '-f', file('demo-v2.yaml', `${DEMO}monitor: { heartbeatInterval: 2s }\n`)]);
    expect(updated.code).toBe(0);
    expect(updated.stdout).toMatch(
      /^deployable cli-demo updated \(id [0-9a-f-]{36}, version 2, status \w+\)\n$/,
    );

    const list = await nephele(['deployable', 'list']);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+VERSION\s+DESIRED\s+STATUS\s+ASSEMBLIES\s+SERVICES\s+REASON\n/);
    expect(list.stdout).toMatch(/\scli-demo\s+2\s+started\s/);

    const status = await nephele(['deployable', 'status', 'cli-demo']);
    expect(status.code).toBe(0);
    const lines = status.stdout.split('\n');
    expect(lines[0]).toMatch(/^deployable cli-demo \([0-9a-f-]{36}\) {2}version 2 {2}desired started$/);
    expect(lines[1]).toMatch(/^status: (starting|running|degraded|recovering|failed)/);
    // Assemblies show once the DPE has observed them (a table), else a plain note.
    expect(lines[3]).toMatch(
      /^(ASSEMBLY\s+STATE\s+INSTANCE\s+ADDRESSES\s+SERVICE\s+SERVICE STATE(\s+REASON)?|no assemblies observed yet)$/,
    );

    const json = JSON.parse((await nephele(['deployable', 'status', 'cli-demo', '-o', 'json'])).stdout);
    expect(json).toMatchObject({
      name: 'cli-demo',
      version: 2,
      desired: 'started',
      assemblies: expect.any(Array),
    });
  });

  it('watches progress: a stopped deployable ends the watch with 1; --timeout bounds it', async () => {
    expect((await nephele(['deployable', 'stop', 'cli-demo'])).stdout).toMatch(
      /^deployable cli-demo: stop requested \(desired stopped, status stopped\)\n$/,
    );
    const stopped = await nephele(['deployable', 'watch', 'cli-demo', '--timeout', '10s']);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toMatch(/^\[\s+0s\] cli-demo: stopped\b.*\(stopped by request\)\n$/);
    expect(stopped.stderr).toContain(
      'is stopped by request; start it with `nephele deployable start cli-demo`',
    );

    expect((await nephele(['deployable', 'start', 'cli-demo'])).code).toBe(0);
    const w = await nephele(['deployable', 'watch', 'cli-demo', '--timeout', '2s', '--interval', '500ms']);
    // Every progress line: [elapsed] name: status, counts and what is not up yet.
    for (const line of w.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('[')))
      expect(line).toMatch(/^\[\s+\d+s\] cli-demo: (starting|running|degraded|recovering|failed)\b/);
    if (w.code === 0) expect(w.stdout).toContain('deployable cli-demo is running');
    else expect(w.stderr).toMatch(/timed out after 2s: deployable cli-demo is still \w+|cli-demo failed/);
  });

  it('lists config events by type prefix', async () => {
    const table = await nephele(['events', 'list', '--type', 'nephele.config.*', '--limit', '5']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TIME\s+TYPE\s+SUBJECT\s+SOURCE\s+DATA\n/);
    expect(table.stdout).toContain('nephele.config.changed');
    expect(table.stderr).toMatch(/^more events: add --cursor \S+ \(or --all\)\n$/);
    const json = JSON.parse(
      (await nephele(['events', 'list', '--type', 'nephele.config.*', '-o', 'json'])).stdout,
    );
    expect(json.length).toBeGreaterThan(5);
    expect(json.every((e: any) => e.type.startsWith('nephele.config.'))).toBe(true);
  });

  it('tails the live stream until --count events, and times out without them', async () => {
    const tail = start([
      'events',
      'tail',
      '-n',
      '0',
      '--type',
      'com.example.cli-e2e',
      '--count',
      '1',
      '--timeout',
      '30s',
    ]);
    await waitFor(() => tail.r.stderr.includes('following events of type com.example.cli-e2e'), {
      timeoutMs: 20_000,
      what: 'the tail to connect',
    });
    const posted = await fetch(`${svc.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'cli-e2e-1',
        source: '/e2e/cli',
        type: 'com.example.cli-e2e',
        subject: 'shop',
        data: { n: 1 },
      }),
    });
    expect(posted.status).toBe(202);
    const r = await tail.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}com\.example\.cli-e2e {2}shop {2}\/e2e\/cli {2}\{"n":1\}\n$/,
    );

    // Past events first (-n), as JSON lines.
    const past = await nephele(['events', 'tail', '-n', '5', '--type', 'com.example.cli-e2e', '-o', 'json']);
    expect(
      past.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(['cli-e2e-1']);

    const none = await nephele([
      'events',
      'tail',
      '-n',
      '0',
      '--type',
      'com.example.none',
      '--count',
      '1',
      '--timeout',
      '1s',
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('error: timed out after 1s with 0 of 1 event(s)');
  });

  it('reports errors with the field, "not found", 401, and exit code 1', async () => {
    const bad = file(
      'bad.yaml',
      'name: bad\nassemblies:\n  - name: A_1\n    image: debian-12\n    hardwareProfile: small\n',
    );
    const malformed = await nephele(['deployable', 'apply', '-f', bad]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(
      /^error: .*invalid deployable \(HTTP 400\)\n {2}assemblies\[0\]\.name: must be lower-case/,
    );

    const yaml = await nephele(['deployable', 'apply', '-f', file('broken.yaml', 'name: [oops\n')]);
    expect(yaml.code).toBe(1);
    expect(yaml.stderr).toContain('malformed YAML');

    expect(await nephele(['deployable', 'status', 'no-such-deployable'])).toMatchObject({
      code: 1,
      stderr: 'error: deployable "no-such-deployable" not found\n',
    });

    const anonymous = await nephele(['pool', 'list'], { env: { NEPHELE_TOKEN: undefined } });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('(HTTP 401)');
    expect(anonymous.stderr).toContain('hint: give a valid token');

    const unreachable = await nephele(['pool', 'list'], { env: { NEPHELE_URL: 'http://127.0.0.1:9' } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('error: cannot reach Nephele at http://127.0.0.1:9');

    const missing = await nephele(['deployable', 'apply', '-f', path.join(dir, 'missing.yaml')]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: `error: cannot read ${path.join(dir, 'missing.yaml')}: no such file\n`,
    });

    expect((await nephele(['pool', 'list', '--nope'])).code).toBe(2);
  });

  it('scales a group through a policy and shows its state', async () => {
    const g = file(
      'group.yaml',
      `config: { name: cli-web, minEntities: 0, maxEntities: 2, cooldown: 0 }
launchConfig: { image: debian-12, hardwareProfile: small, pool: default }
policies:
  - { name: up, type: webhook, change: 1 }
`,
    );
    const created = await nephele(['group', 'create', '-f', g]);
    expect(created.stdout).toMatch(/^group cli-web created \(id [0-9a-f-]{36}, desired 0\)\n$/);
    expect((await nephele(['group', 'list'])).stdout).toMatch(/\scli-web\s+0\s+2\s+0\s+ACTIVE\s+false\n/);
    expect(await nephele(['policy', 'execute', 'cli-web', 'up'])).toMatchObject({
      code: 0,
      stdout: 'policy up executed on group cli-web: desired 0 → 1\n',
    });
    const state = await nephele(['group', 'state', 'cli-web']);
    expect(state.stdout).toMatch(
      /^group cli-web \([0-9a-f-]{36}\) {2}status ACTIVE\ndesired 1 {2}active \d {2}pending \d\n/,
    );
    expect((await nephele(['group', 'delete', 'cli-web', '--force'])).code).toBe(0);
    expect((await nephele(['instances', '--state', 'running'])).stdout).toMatch(
      /^ID\s+NAME\s+STATE\s+POOL\s/,
    );
  });

  it('logs in (config file mode 600, token from stdin) and never prints the token', async () => {
    const login = await nephele(['login', '--url', svc.url, '--token-stdin'], {
      env: { NEPHELE_URL: undefined, NEPHELE_TOKEN: undefined },
      input: `${TOKEN}\n`,
    });
    expect(login.code).toBe(0);
    const cfg = path.join(dir, 'config.json');
    expect(login.stdout).toBe(`logged in to ${svc.url}; saved in ${cfg} (mode 600)\n`);
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    const projects = await nephele(['project', 'list'], {
      env: { NEPHELE_URL: undefined, NEPHELE_TOKEN: undefined },
    });
    expect(projects.code).toBe(0);
    expect(projects.stdout).toContain('default');

    expect((await nephele(['deployable', 'delete', 'cli-demo'])).stdout).toMatch(
      /^deployable cli-demo deleted/,
    );
    for (const o of outputs) expect(o).not.toContain(TOKEN);
  });
});
