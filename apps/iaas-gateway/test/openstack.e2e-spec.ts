import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApps, freePort, ServiceProcess, waitFor } from '@nephele/testing';

const TOKEN = 'openstack-e2e-admin-token-0123456789abcdef';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The all-in-one driven by the real `openstack` CLI (Debian's python3-openstackclient and
 * python3-heatclient): Keystone token auth with a Nephele API token, Nova servers on the local
 * driver, Glance images, Heat stacks from a HOT template whose user data serves a page.
 */
describe('OpenStack-compatible API with the real openstack CLI (E2E)', () => {
  let svc: ServiceProcess;
  let dir: string;
  let memberToken: string;

  const openstack = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const e: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        OS_AUTH_TYPE: 'v3token',
        OS_AUTH_URL: `${svc.url}/openstack/identity/v3`,
        OS_TOKEN: memberToken,
        OS_PROJECT_NAME: 'default',
        OS_PROJECT_DOMAIN_ID: 'default',
        OS_IDENTITY_API_VERSION: '3',
        ...env,
      };
      execFile('openstack', args, { env: e, timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  const ok = async (args: string[], env?: Record<string, string>) => {
    const r = await openstack(args, env);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  // `--wait` prints the stack's events before the JSON document.
  const json = async (args: string[]) => {
    const out = await ok([...args, '-f', 'json']);
    const start = out.search(/^[[{]/m);
    return JSON.parse(out.slice(start)) as any;
  };
  const status = async (server: string) =>
    (await ok(['server', 'show', server, '-c', 'status', '-f', 'value'])).trim();

  beforeAll(async () => {
    buildApps('nephele');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-openstack-e2e-'));
    svc = await ServiceProcess.start(
      'nephele',
      {
        PORT: String(await freePort()),
        NEPHELE_EDGE_PORT: String(await freePort()),
        NEPHELE_DATA_DIR: path.join(dir, 'data'),
        NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
      },
      { readyTimeoutMs: 240_000 },
    );
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    let project = '';
    await waitFor(
      async () => {
        const r = await fetch(`${svc.url}/v1/projects?name=default`, { headers: admin });
        const items = r.ok ? ((await r.json()) as any).items : [];
        const images = await fetch(`${svc.url}/v1/images?name=sleeper`, { headers: admin });
        project = items[0]?.id ?? '';
        return !!project && images.ok && ((await images.json()) as any).items.length === 1;
      },
      { timeoutMs: 60_000, what: 'the seeded default project' },
    );
    const t = await fetch(`${svc.url}/v1/tokens`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ project, role: 'member', name: 'openstack-cli' }),
    });
    expect(t.status).toBe(201);
    memberToken = ((await t.json()) as any).token;
  }, 360_000);

  afterAll(async () => {
    await svc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('authenticates with a Nephele token (token and application credential) and refuses anything else', async () => {
    const flavors = await json(['flavor', 'list']);
    expect(flavors).toEqual([expect.objectContaining({ Name: 'small', 'Is Public': true })]);
    const images = await json(['image', 'list', '--name', 'sleeper']);
    expect(images).toEqual([expect.objectContaining({ Name: 'sleeper', Status: 'active' })]);

    const appCred = await openstack(['image', 'list', '-f', 'value', '-c', 'Name'], {
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: 'cli',
      OS_APPLICATION_CREDENTIAL_SECRET: memberToken,
      OS_TOKEN: '',
      OS_PROJECT_NAME: '',
      OS_PROJECT_DOMAIN_ID: '',
    });
    expect(appCred.code).toBe(0);
    expect(appCred.stdout.split('\n').sort()).toEqual(['', 'debian-12', 'sleeper']);

    const bad = await openstack(['flavor', 'list'], { OS_TOKEN: 'not-a-nephele-token' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/HTTP 401/);
    const other = await openstack(['flavor', 'list'], { OS_PROJECT_NAME: 'someone-elses' });
    expect(other.stderr).toMatch(/No project someone-elses in domain default/);

    // Without a token the API answers 401 in Keystone's format.
    const raw = await fetch(`${svc.url}/openstack/identity/v3/auth/tokens`, { method: 'GET' });
    expect(raw.status).toBe(401);
    expect(((await raw.json()) as any).error).toMatchObject({ code: 401, title: 'Unauthorized' });
  }, 120_000);

  it('creates, lists, stops, starts and deletes a server', async () => {
    const created = await json([
      'server',
      'create',
      '--image',
      'sleeper',
      '--flavor',
      'small',
      '--property',
      'role=test',
      '--wait',
      'e2e-vm',
    ]);
    expect(created).toMatchObject({
      name: 'e2e-vm',
      status: 'ACTIVE',
      addresses: { nephele: ['127.0.0.1'] },
    });
    const id = created.id as string;
    expect(await json(['server', 'list', '--name', '^e2e-'])).toEqual([
      expect.objectContaining({
        ID: id,
        Name: 'e2e-vm',
        Status: 'ACTIVE',
        Image: 'sleeper',
        Flavor: 'small',
      }),
    ]);
    expect(await json(['server', 'show', 'e2e-vm'])).toMatchObject({ id, properties: { role: 'test' } });

    await ok(['server', 'stop', id]);
    await waitFor(async () => (await status(id)) === 'SHUTOFF', { timeoutMs: 60_000, what: 'SHUTOFF' });
    await ok(['server', 'start', id]);
    await waitFor(async () => (await status(id)) === 'ACTIVE', { timeoutMs: 60_000, what: 'ACTIVE again' });

    await ok(['server', 'delete', '--wait', id]);
    expect(await json(['server', 'list'])).toEqual([]);
    const gone = await openstack(['server', 'show', id]);
    expect(gone.stderr).toMatch(/No server with a name or ID|could not be found/);
  }, 180_000);

  it('builds a stack from a HOT template whose user data serves a page, and deletes it with its servers', async () => {
    const port = await freePort();
    const template = path.join(dir, 'web.yaml');
    writeFileSync(
      template,
      `heat_template_version: 2018-08-31
description: one web server
parameters:
  port:
    type: number
    constraints:
      - range: {min: 1024, max: 65535}
  greeting: {type: string, default: hello}
resources:
  boot:
    type: OS::Heat::SoftwareConfig
    properties:
      config:
        str_replace:
          template: |
            #!/bin/sh
            mkdir -p www && echo "$greeting from $stack" > www/index.html
            cd www && exec python3 -m http.server $port --bind 127.0.0.1
          params:
            $greeting: {get_param: greeting}
            $port: {get_param: port}
            $stack: {get_param: "OS::stack_name"}
  web:
    type: OS::Nova::Server
    properties:
      image: sleeper
      flavor: small
      user_data_format: RAW
      user_data: {get_resource: boot}
outputs:
  url:
    description: the page
    value:
      str_replace:
        template: http://$host:$port/
        params:
          $host: {get_attr: [web, first_address]}
          $port: {get_param: port}
`,
    );
    const stack = await json([
      'stack',
      'create',
      '-t',
      template,
      '--parameter',
      `port=${port}`,
      '--parameter',
      'greeting=hi',
      '--wait',
      'e2e-web',
    ]);
    expect(stack).toMatchObject({ stack_name: 'e2e-web', stack_status: 'CREATE_COMPLETE' });
    const url = (
      await ok(['stack', 'output', 'show', 'e2e-web', 'url', '-c', 'output_value', '-f', 'value'])
    ).trim();
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    let page = '';
    await waitFor(
      async () => {
        page = await fetch(url)
          .then((r) => r.text())
          .catch(() => '');
        return page.length > 0;
      },
      { timeoutMs: 30_000, what: 'the page served by the user data' },
    );
    expect(page.trim()).toBe('hi from e2e-web');
    const servers = await json(['server', 'list']);
    expect(servers).toEqual([expect.objectContaining({ Name: 'e2e-web-web', Status: 'ACTIVE' })]);

    await ok(['stack', 'delete', '--yes', '--wait', 'e2e-web']);
    expect(await json(['server', 'list'])).toEqual([]);
    expect(await json(['stack', 'list'])).toEqual([]);
    await expect(fetch(url)).rejects.toThrow();
  }, 180_000);

  it('makes a stack from an appliance implementation that is a HOT template (validated on upload)', async () => {
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const get = async (p: string) =>
      ((await (await fetch(`${svc.url}${p}`, { headers: admin })).json()) as any).items[0];
    const project = (await get('/v1/projects?name=default')).id as string;
    const provider = (await get('/v1/providers')).id as string;
    const pool = (await get('/v1/pools?name=default')).id as string;
    const post = (p: string, body: unknown, headers: Record<string, string> = admin) =>
      fetch(`${svc.url}${p}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const appliance = (await (await post('/v1/appliances', { project, name: 'hot-sleeper' })).json()) as any;
    const impl = (body: unknown) =>
      post(`/v1/appliances/${appliance.id}/implementations`, {
        providerId: provider,
        templateVersion: '1',
        template: body,
      });
    const refused = await impl({
      heat_template_version: '2018-08-31',
      resources: { v: { type: 'OS::Cinder::Volume' } },
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0].field).toBe('template.resources.v.type');
    expect(
      (
        await impl(
          'heat_template_version: 2018-08-31\nresources:\n  vm:\n    type: OS::Nova::Server\n    properties: {image: sleeper, flavor: small}\noutputs:\n  name: {value: {get_attr: [vm, name]}}\n',
        )
      ).status,
    ).toBe(201);

    const auth = await post(
      '/openstack/identity/v3/auth/tokens',
      { auth: { identity: { methods: ['token'], token: { id: memberToken } } } },
      { 'content-type': 'application/json' },
    );
    expect(auth.status).toBe(201);
    const os = { 'x-auth-token': auth.headers.get('x-subject-token')!, 'content-type': 'application/json' };
    const stacks = `/openstack/${pool}/orchestration/v1/${project}/stacks`;
    const created = await post(
      stacks,
      { stack_name: 'from-appliance', template_url: 'nephele:appliances/hot-sleeper' },
      os,
    );
    expect(created.status).toBe(201);
    await waitFor(
      async () => (await json(['stack', 'show', 'from-appliance'])).stack_status === 'CREATE_COMPLETE',
      {
        timeoutMs: 60_000,
        what: 'the stack from the appliance',
      },
    );
    expect(
      (
        await ok(['stack', 'output', 'show', 'from-appliance', 'name', '-c', 'output_value', '-f', 'value'])
      ).trim(),
    ).toBe('from-appliance-vm');
    await ok(['stack', 'delete', '--yes', '--wait', 'from-appliance']);
    expect(await json(['server', 'list'])).toEqual([]);
  }, 180_000);

  it('answers a bad body in the error format of each service, naming the field, and 401 before 400', async () => {
    const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const pool = ((await (await fetch(`${svc.url}/v1/pools?name=default`, { headers: admin })).json()) as any)
      .items[0].id as string;
    const project = ((await (await fetch(`${svc.url}/v1/projects?name=default`, { headers: admin })).json()) as any)
      .items[0].id as string;
    const send = async (p: string, body: unknown, headers: Record<string, string>) => {
      const r = await fetch(`${svc.url}${p}`, { method: 'POST', headers, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const json = { 'content-type': 'application/json' };
    const keystone = await send('/openstack/identity/v3/auth/tokens', { auth: { identity: { methods: [] } } }, json);
    expect(keystone.status).toBe(400);
    expect(keystone.body.error).toMatchObject({ code: 400, title: 'Bad Request' });
    expect(keystone.body.error.message).toContain('auth.identity.methods');
    const auth = await fetch(`${svc.url}/openstack/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ auth: { identity: { methods: ['token'], token: { id: memberToken } } } }),
    });
    const os = { ...json, 'x-auth-token': auth.headers.get('x-subject-token')! };
    const servers = `/openstack/${pool}/compute/v2.1/servers`;
    const badServer = { server: { name: 'no spaces allowed', flavorRef: 'small', min_count: 1, networks: 'auto' } };
    // No token: 401 whatever the body (the guard runs before the body's validation).
    expect((await send(servers, badServer, json)).status).toBe(401);
    const nova = await send(servers, badServer, os);
    expect(nova.status).toBe(400);
    expect(nova.body.badRequest.code).toBe(400);
    expect(nova.body.badRequest.message).toMatch(/field\/attribute server\.name: .*; .*field\/attribute server\.imageRef: required/);
    const action = await send(`${servers}/00000000-0000-4000-8000-000000000000/action`, { createImage: {} }, os);
    expect([action.status, action.body.badRequest.message]).toEqual([400, expect.stringContaining('createImage')]);
    const keypair = await send(`/openstack/${pool}/compute/v2.1/os-keypairs`, { keypair: { name: 'k' } }, os);
    expect(keypair.body.badRequest.message).toContain('keypair.public_key');
    const stacks = `/openstack/${pool}/orchestration/v1/${project}/stacks`;
    expect((await send(stacks, { stack_name: '1bad' }, json)).status).toBe(401);
    const heat = await send(stacks, { stack_name: '1bad', disable_rollback: true }, os);
    expect(heat.status).toBe(400);
    expect(heat.body).toMatchObject({ code: 400, title: 'Bad Request', error: { type: 'BadRequest' } });
    expect(heat.body.error.message).toMatch(/stack_name: stack_name must start with a letter.*template_url: a template is required/);
  }, 60_000);

  it('refuses what is outside the subset with a clear CLI error', async () => {
    const template = path.join(dir, 'net.yaml');
    writeFileSync(
      template,
      'heat_template_version: 2018-08-31\nresources:\n  net:\n    type: OS::Neutron::Net\n',
    );
    const r = await openstack(['stack', 'create', '-t', template, 'e2e-net']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /ERROR: resources\.net\.type: The Resource Type \(OS::Neutron::Net\) is not supported/,
    );
    const p = await openstack([
      'stack',
      'create',
      '-t',
      path.join(dir, 'web.yaml'),
      '--parameter',
      'port=80',
      'e2e-low',
    ]);
    expect(p.stderr).toMatch(/Parameter 'port' is invalid: 80 must be at least 1024/);
    expect(await json(['stack', 'list'])).toEqual([]);
  }, 60_000);
});
