import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildApps, freePort, ServiceProcess, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const TOKEN = 'cli-ops-e2e-admin-token-0123456789abcdef';
const CLI = path.join(WORKSPACE_ROOT, 'dist/apps/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The commands and output formats added for operating Nephele from the CLI (issue 17, 13.4). */
describe('nephele CLI: operations, formats, describe, completion (E2E)', () => {
  let svc: ServiceProcess;
  let dir: string;
  let env: Record<string, string>;

  const nephele = (args: string[], input = ''): Promise<Run> => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const r: Run = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (b: Buffer) => (r.stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (r.stderr += b.toString()));
    child.stdin.end(input);
    return new Promise((resolve) => child.once('close', (code) => resolve({ ...r, code })));
  };
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(`${svc.url}${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    buildApps('nephele', 'agent', 'cli');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-cli-ops-'));
    const port = await freePort();
    svc = new ServiceProcess(
      'nephele',
      {
        PORT: String(port),
        NEPHELE_EDGE_PORT: String(await freePort()),
        NEPHELE_DATA_DIR: path.join(dir, 'data'),
        NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
      },
      port,
    );
    // On a loaded machine the all-in-one may take longer than start()'s own wait.
    await svc.start().catch(() =>
      waitFor(async () => (await fetch(`${svc.url}/readyz`).catch(() => undefined))?.ok, {
        timeoutMs: 200_000,
        what: 'nephele to be ready',
      }),
    );
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      NEPHELE_URL: svc.url,
      NEPHELE_TOKEN: TOKEN,
      NEPHELE_CONFIG: path.join(dir, 'config.json'),
    };
    await waitFor(
      async () => {
        const r = await api('/v1/appliances?name=hello-web');
        return r.status === 200 && r.body.items.length === 1;
      },
      { timeoutMs: 30_000, what: 'the seeded default project and appliance' },
    );
  }, 300_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints every byte of 1,000+ events through a slow pipe, and exits 0 when the reader stops early', async () => {
    const batch = Array.from({ length: 1100 }, (_, i) => ({
      specversion: '1.0',
      id: `drain-${i}`,
      source: '/cli-e2e',
      type: 'com.example.drain',
      data: { i, pad: 'x'.repeat(120) },
    }));
    // The API takes at most 1,000 events per request.
    for (let i = 0; i < batch.length; i += 100)
      expect((await api('/v1/events', { method: 'POST', body: JSON.stringify(batch.slice(i, i + 100)) })).status).toBe(202);
    const args = ['events', 'list', '--type', 'com.example.drain', '--limit', '1000', '-o', 'json'];
    const toFile = path.join(dir, 'events.json');
    await waitFor(
      async () => {
        const r = await nephele([...args, '--jsonpath', '{.items[*].id}']);
        return r.stdout.trim().split('\n').length === 1000;
      },
      { timeoutMs: 30_000, what: 'the 1,000 events stored' },
    );
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = `${q(process.execPath)} ${q(CLI)} ${args.map(q).join(' ')}`;
    execFileSync('sh', ['-c', `${cmd} > ${q(toFile)}`], { env });
    const full = statSync(toFile).size;
    expect(full).toBeGreaterThan(200_000);
    const slow = execFileSync('sh', ['-c', `${cmd} | (sleep 1; wc -c)`], {
      env,
      encoding: 'utf8',
    });
    expect(slow.trim().split('\n')[0]!.trim()).toBe(String(full));
    const parsed = JSON.parse(execFileSync('sh', ['-c', `${cmd} | (sleep 1; cat)`], { env, encoding: 'utf8' }));
    expect(parsed).toHaveLength(1000);
    // A reader that stops early is a normal end: exit 0, no error message.
    const head = execFileSync('sh', ['-c', `${cmd} | head -c 100 > /dev/null; echo done`], {
      env,
      encoding: 'utf8',
    });
    expect(head.trim()).toBe('done');
  }, 90_000);

  it('prints get/list as yaml, wide and --jsonpath', async () => {
    const yaml = await nephele(['pool', 'list', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    expect((parseYaml(yaml.stdout) as { name: string }[]).map((p) => p.name)).toEqual(['default']);
    const one = await nephele(['pool', 'get', 'default', '-o', 'yaml']);
    expect(parseYaml(one.stdout)).toMatchObject({ name: 'default', enabled: true });
    expect((await nephele(['pool', 'list', '--jsonpath', '{.items[*].name}'])).stdout).toBe('default\n');
    expect((await nephele(['profile', 'get', 'small', '--jsonpath', '$.name'])).stdout).toBe('small\n');
    const wide = await nephele(['group', 'list', '-o', 'wide']);
    expect(wide).toMatchObject({ code: 0 });
    expect(wide.stdout).toMatch(/^ID\s+NAME\s+MIN\s+MAX\s+DESIRED\s+STATUS\s+PAUSED\s+COOLDOWN\s+IMAGE\s+PROFILE\s+POOL\s+PROJECT/);
    expect((await nephele(['pool', 'list', '-o', 'xml'])).code).toBe(2);
    expect((await nephele(['pool', 'list', '--jsonpath', '{.a[}'])).stderr).toContain('--jsonpath: cannot read');
  }, 60_000);

  it('shows the whole explanation with events list --wide', async () => {
    const explanation = `restart web1/httpd in place: ${'it failed its monitor; '.repeat(6)}end`;
    await api('/v1/events', {
      method: 'POST',
      body: JSON.stringify({
        specversion: '1.0',
        id: 'wide-1',
        source: '/cli-e2e',
        type: 'com.example.decision',
        subject: 'x',
        data: { action: 'restart', explanation },
      }),
    });
    await waitFor(async () => (await nephele(['events', 'list', '--type', 'com.example.decision', '--wide'])).stdout.includes(explanation), {
      timeoutMs: 10_000,
      what: 'the explanation in full',
    });
    const narrow = await nephele(['events', 'list', '--type', 'com.example.decision']);
    expect(narrow.stdout).not.toContain(explanation);
    expect((await nephele(['events', 'list', '--type', 'com.example.decision', '-o', 'wide'])).stdout).toMatch(
      /EXPLANATION/,
    );
  }, 60_000);

  it('applies a deployable: dry run diff, "unchanged" on re-apply, describe with explained events, watch names once, retry', async () => {
    const v1 = `name: ops1
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - name: sleeper
        class: process
        command: ["sleep", "1000"]
`;
    const f = file('ops1.yaml', v1);
    const dryNew = await nephele(['deployable', 'apply', '-f', f, '--dry-run']);
    expect(dryNew).toMatchObject({ code: 0 });
    expect(dryNew.stdout).toMatch(/^deployable ops1 would be created \(dry run: nothing stored\)\n/);
    expect((await api('/v1/deployables/ops1')).status).toBe(404);

    expect((await nephele(['deployable', 'apply', '-f', f, '--no-start'])).stdout).toMatch(/^deployable ops1 created/);
    const again = await nephele(['deployable', 'apply', '-f', f]);
    expect(again).toMatchObject({ code: 0, stdout: 'deployable ops1 unchanged (version 1)\n' });
    expect((await api('/v1/deployables/ops1')).body.version).toBe(1);
    // The same data written differently is the same document.
    const reordered = file('ops1-comments.yaml', `# a comment\n${v1}`);
    expect((await nephele(['deployable', 'apply', '-f', reordered])).stdout).toBe('deployable ops1 unchanged (version 1)\n');

    const v2 = file('ops1-v2.yaml', v1.replace('"1000"', '"2000"'));
    const dry = await nephele(['deployable', 'apply', '-f', v2, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would be updated to version 2');
    expect(dry.stdout).toContain('-        command: ["sleep", "1000"]');
    expect(dry.stdout).toContain('+        command: ["sleep", "2000"]');
    expect((await api('/v1/deployables/ops1')).body.version).toBe(1);
    expect((await nephele(['deployable', 'apply', '-f', v2])).stdout).toMatch(/^deployable ops1 updated \(id [0-9a-f-]{36}, version 2/);

    // A service whose binary is missing: watch names it once (a1/broken, not a1/a1/broken).
    const broken = file(
      'ops2.yaml',
      `name: ops2
assemblies:
  - name: a1
    image: debian-12
    hardwareProfile: small
    services:
      - name: broken
        class: process
        command: ["/nonexistent/nephele-e2e-binary"]
`,
    );
    expect((await nephele(['deployable', 'apply', '-f', broken])).code).toBe(0);
    const watch = await nephele(['deployable', 'watch', 'ops2', '--timeout', '8s', '--interval', '500ms']);
    expect(watch.stdout).toContain('ops2:');
    expect(watch.stdout).not.toContain('a1/a1/');
    await waitFor(async () => (await nephele(['deployable', 'watch', 'ops2', '--timeout', '1s'])).stdout.includes('a1/broken'), {
      timeoutMs: 30_000,
      what: 'the broken service in the watch line',
    });

    const described = await nephele(['describe', 'deployable', 'ops2']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^deployable ops2 \([0-9a-f-]{36}\)/);
    expect(described.stdout).toContain('Events (last 20):');
    // Each DPE decision with its explanation (the newest 20 events: the restarts of the broken service).
    expect(described.stdout).toMatch(/dpe\.decision\s+\S.*restart/);
    const describedJson = JSON.parse((await nephele(['describe', 'deployable', 'ops2', '-o', 'json'])).stdout);
    expect(describedJson.object.name).toBe('ops2');
    expect(describedJson.events.length).toBeGreaterThan(0);
    expect(describedJson.events.length).toBeLessThanOrEqual(20);

    const retry = await nephele(['deployable', 'retry', 'ops2']);
    // Until the server has POST /v1/deployables/{id}/retry the CLI says so plainly (exit 1).
    if (retry.code === 0) expect(retry.stdout).toMatch(/^deployable ops2: retry requested/);
    else expect(retry.stderr).toMatch(/^error: (this server has no retry route|.+)/);

    expect(await nephele(['describe', 'deployable', 'nope'])).toMatchObject({ code: 1, stderr: 'error: deployable "nope" not found\n' });
    expect((await nephele(['describe', 'gizmo', 'x'])).code).toBe(2);
    for (const d of ['ops1', 'ops2']) expect((await nephele(['deployable', 'delete', d])).code).toBe(0);
  }, 100_000);

  it('makes a cluster from an appliance and reads its outputs', async () => {
    const appliances = await nephele(['appliance', 'list']);
    expect(appliances.stdout).toMatch(/\shello-web\s+A static web server/);
    expect((await nephele(['appliance', 'implementation', 'list', 'hello-web'])).stdout).toMatch(/1\.0\.0\s+port\s+url/);
    const port = await freePort();
    const created = await nephele(['cluster', 'create', 'blog', '--appliance', 'hello-web', '--param', `port=${port}`]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toMatch(/^cluster blog created \(id [0-9a-f-]{36}, status \w+\)\n$/);
    const rest = await api('/v1/clusters/blog');
    expect(rest.body).toMatchObject({ name: 'blog', parameters: { port }, appliance: { name: 'hello-web' } });
    expect((await nephele(['cluster', 'list'])).stdout).toMatch(/\sblog\s+hello-web\s/);
    await waitFor(async () => (await nephele(['cluster', 'get', 'blog', '--jsonpath', '{.outputs.values.url}'])).stdout === `http://127.0.0.1:${port}/\n`, {
      timeoutMs: 40_000,
      what: 'the cluster url output',
    });
    const show = await nephele(['cluster', 'get', 'blog']);
    expect(show.stdout).toMatch(/^OUTPUT\s+VALUE\nurl\s+http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect((await nephele(['describe', 'cluster', 'blog'])).stdout).toContain('Events (last 20):');
    expect((await nephele(['cluster', 'create', 'x'])).stderr).toContain('--appliance: required');
    expect((await nephele(['cluster', 'delete', 'blog'])).stdout).toMatch(/^cluster blog deleted/);
    await waitFor(async () => (await api('/v1/clusters/blog')).status === 404, { timeoutMs: 20_000, what: 'the cluster gone' });
    expect(await nephele(['cluster', 'get', 'blog'])).toMatchObject({ code: 1, stderr: 'error: cluster "blog" not found\n' });
  }, 90_000);

  it('updates, sets the desired capacity of, pauses and resumes a group', async () => {
    const g = file(
      'g.yaml',
      `config: { name: ops-web, minEntities: 0, maxEntities: 3, cooldown: 0 }
launchConfig: { image: debian-12, hardwareProfile: small, pool: default }
`,
    );
    expect((await nephele(['group', 'create', '-f', g])).code).toBe(0);
    const id = (await api('/v1/groups')).body.items.find((x: any) => x.config.name === 'ops-web').id;
    expect(await nephele(['group', 'update', 'ops-web', '--max', '4', '--cooldown', '0'])).toMatchObject({
      code: 0,
      stdout: 'group ops-web updated (entities 0..4, cooldown 0s)\n',
    });
    expect((await api(`/v1/groups/${id}`)).body.config).toMatchObject({ maxEntities: 4, minEntities: 0 });
    expect(await nephele(['group', 'set-desired', 'ops-web', '2'])).toMatchObject({
      code: 0,
      stdout: 'group ops-web: desired 0 → 2\n',
    });
    expect((await api(`/v1/groups/${id}/state`)).body.desiredCapacity).toBe(2);
    // The helper policy is gone again.
    expect((await api(`/v1/groups/${id}/policies`)).body.items).toEqual([]);
    expect((await nephele(['group', 'pause', 'ops-web'])).stdout).toBe('group ops-web paused\n');
    expect((await api(`/v1/groups/${id}/state`)).body.paused).toBe(true);
    expect((await nephele(['group', 'resume', 'ops-web'])).stdout).toBe('group ops-web resumed\n');
    expect((await api(`/v1/groups/${id}/state`)).body.paused).toBe(false);
    const described = await nephele(['describe', 'group', 'ops-web']);
    expect(described.stdout).toMatch(/^id:\s+[0-9a-f-]{36}$/m);
    expect(described.stdout).toContain('Events (last 20):');
    expect(await nephele(['group', 'pause', 'nope'])).toMatchObject({ code: 1, stderr: 'error: group "nope" not found\n' });
    expect((await nephele(['group', 'set-desired', 'ops-web', 'many'])).code).toBe(2);
    expect((await nephele(['group', 'delete', 'ops-web', '--force'])).code).toBe(0);
  }, 150_000);

  it('prints a bash completion script that completes commands and subcommands', async () => {
    const script = await nephele(['completion', 'bash']);
    expect(script.code).toBe(0);
    const f = file('completion.bash', script.stdout);
    const complete = (words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source ${f}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nephele_complete; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(complete(['nephele', 'clu'])).toBe('cluster');
    expect(complete(['nephele', 'group', 'se']).split(' ')).toEqual(['set-desired']);
    expect(complete(['nephele', 'pool', 'list', '-o', 'y'])).toBe('yaml');
    expect(complete(['nephele', 'describe', '']).length).toBeGreaterThanOrEqual(0);
    expect((await nephele(['completion', 'zsh'])).stdout).toContain('bashcompinit');
    expect((await nephele(['completion', 'fish'])).code).toBe(2);
  }, 60_000);
});
