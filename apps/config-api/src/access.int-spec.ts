import { Client, Harness, startHarness } from './test/harness';

// Note [Route table]
// The cases are generated from the OpenAPI document the app serves, so a new route is covered (or
// the test fails asking for its fixture) without anyone remembering to add it here.

type Route = { method: string; path: string };
const WRITE = new Set(['POST', 'PATCH', 'DELETE']);
const RANDOM = '00000000-0000-4000-8000-00000000abcd';

describe('access control on every route (generated from the OpenAPI route table)', () => {
  let h: Harness;
  let routes: Route[];
  const a: Record<string, string> = {};
  let memberA: Client;
  let viewerA: Client;
  let memberB: Client;
  let anonymous: Client;

  beforeAll(async () => {
    h = await startHarness('configapi_access', { NEPHELE_MASTER_KEY: '11'.repeat(32) });
    const ad = h.admin;
    a.project = (await ad.create('/v1/projects', { name: 'project-a' })).id;
    a.projectB = (await ad.create('/v1/projects', { name: 'project-b' })).id;
    const project = a.project;
    a.provider = (await ad.create('/v1/providers', { name: 'p', kind: 'simulated' })).id;
    a.profile = (
      await ad.create(`/v1/providers/${a.provider}/profiles`, {
        name: 'm1',
        cpu: 1,
        memoryMb: 1024,
        storageGb: 10,
        arch: 'x86_64',
      })
    ).id;
    a.realm = (await ad.create(`/v1/providers/${a.provider}/realms`, { name: 'zone-1' })).id;
    a.account = (
      await ad.create('/v1/provider-accounts', {
        project,
        providerId: a.provider,
        name: 'acc',
        credentials: { k: 'v' },
      })
    ).id;
    a.family = (await ad.create('/v1/pool-families', { project, name: 'fam', accountIds: [a.account] })).id;
    a.pool = (await ad.create('/v1/pools', { project, name: 'pool', familyId: a.family })).id;
    a.hardware = (await ad.create('/v1/hardware-profiles', { project, name: 'hw', cpu: 1 })).id;
    a.image = (await ad.create('/v1/images', { project, name: 'img' })).id;
    a.mapping = (
      await ad.create('/v1/image-mappings', {
        project,
        imageId: a.image,
        accountId: a.account,
        providerImageId: 'x',
      })
    ).id;
    a.appliance = (await ad.create('/v1/appliances', { project, name: 'app' })).id;
    a.implementation = (
      await ad.create(`/v1/appliances/${a.appliance}/implementations`, {
        providerId: a.provider,
        templateVersion: '1',
        template: '{}',
      })
    ).id;
    const memberTokenA = await ad.create('/v1/tokens', { project, role: 'member', name: 'member-a' });
    a.token = memberTokenA.id;
    memberA = ad.as(memberTokenA.token);
    viewerA = ad.as((await ad.create('/v1/tokens', { project, role: 'viewer', name: 'viewer-a' })).token);
    memberB = ad.as(
      (await ad.create('/v1/tokens', { project: a.projectB, role: 'member', name: 'member-b' })).token,
    );
    anonymous = ad.as(undefined);
    const doc = (await ad.get('/docs/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
  });

  afterAll(async () => {
    await h?.close();
  });

  /** The fixture of project A for each path parameter, by the resource the parameter names. */
  function fill(path: string): string {
    const byResource: Record<string, string> = {
      projects: 'project',
      tokens: 'token',
      providers: 'provider',
      profiles: 'profile',
      realms: 'realm',
      'provider-accounts': 'account',
      'pool-families': 'family',
      pools: 'pool',
      'hardware-profiles': 'hardware',
      images: 'image',
      'image-mappings': 'mapping',
      appliances: 'appliance',
      implementations: 'implementation',
    };
    const parts = path.split('/');
    return parts
      .map((seg, i) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg;
        const key = byResource[parts[i - 1]!];
        if (!key || !a[key])
          throw new Error(`no fixture for {${m[1]}} in ${path}: add one to the access test`);
        return a[key];
      })
      .join('/');
  }

  /** A body that passes validation, so that what answers is the scoping (route table key: METHOD path). */
  const bodies: Record<string, unknown> = {
    'POST /v1/appliances/{applianceId}/implementations': {
      providerId: RANDOM,
      templateVersion: '9',
      template: '{}',
    },
    'POST /v1/providers/{providerId}/profiles': {
      name: 'x',
      cpu: 1,
      memoryMb: 1,
      storageGb: 1,
      arch: 'x86_64',
    },
    'POST /v1/providers/{providerId}/realms': { name: 'x' },
    'POST /v1/tokens': { role: 'member', name: 'x' },
    'POST /v1/provider-accounts': { providerId: RANDOM, name: 'x' },
    'POST /v1/pool-families': { name: 'x' },
    'POST /v1/pools': { name: 'x', familyId: RANDOM },
    'POST /v1/hardware-profiles': { name: 'x' },
    'POST /v1/images': { name: 'x' },
    'POST /v1/image-mappings': { imageId: RANDOM, accountId: RANDOM, providerImageId: 'x' },
    'POST /v1/appliances': { name: 'x' },
  };
  const bodyOf = (r: Route) =>
    r.method === 'DELETE' || r.method === 'GET' ? undefined : (bodies[`${r.method} ${r.path}`] ?? {});
  const isGlobal = (path: string) => path.startsWith('/v1/providers');
  const adminWrites = (path: string) => isGlobal(path) || path.startsWith('/v1/projects');
  const hasParam = (path: string) => path.includes('{');

  async function check(client: Client, r: Route, expected: number, failures: string[]): Promise<void> {
    const res = await client.req(r.method, fill(r.path), bodyOf(r));
    if (res.status !== expected)
      failures.push(`${r.method} ${r.path}: ${res.status} (want ${expected}) ${JSON.stringify(res.body)}`);
  }

  it('covers the whole route table', () => {
    expect(routes.length).toBeGreaterThanOrEqual(40);
    for (const r of routes) expect(() => fill(r.path)).not.toThrow();
    const postsWithoutBody = routes
      .filter((r) => r.method === 'POST' && !adminWrites(r.path) && !bodies[`POST ${r.path}`])
      .map((r) => r.path);
    expect(postsWithoutBody).toEqual([]);
  });

  it('answers 401 without a token on every route', async () => {
    const failures: string[] = [];
    for (const r of routes) await check(anonymous, r, 401, failures);
    expect(failures).toEqual([]);
  });

  it("lets project A's member read every object of project A (so the 404s below are scoping)", async () => {
    const failures: string[] = [];
    for (const r of routes.filter((x) => x.method === 'GET')) await check(memberA, r, 200, failures);
    expect(failures).toEqual([]);
  });

  it('answers 403 to a viewer on every write route', async () => {
    const failures: string[] = [];
    for (const r of routes.filter((x) => WRITE.has(x.method))) await check(viewerA, r, 403, failures);
    expect(failures).toEqual([]);
  });

  it("answers 404 to another project's token for every project-owned object, exactly as for a missing one", async () => {
    const failures: string[] = [];
    for (const r of routes.filter((x) => hasParam(x.path))) {
      const expected = isGlobal(r.path)
        ? r.method === 'GET'
          ? 200
          : 403
        : WRITE.has(r.method) && adminWrites(r.path)
          ? 403
          : 404;
      await check(memberB, r, expected, failures);
      if (expected === 404) {
        // The same route with an id that exists nowhere answers the same status and detail shape.
        const missing = await memberB.req(
          r.method,
          fill(r.path).replace(/[0-9a-f-]{36}$/, RANDOM),
          bodyOf(r),
        );
        if (missing.status !== 404) failures.push(`${r.method} ${r.path} (missing id): ${missing.status}`);
      }
    }
    expect(failures).toEqual([]);
    // Nothing of project A was changed or deleted by those attempts.
    for (const r of routes.filter((x) => x.method === 'GET' && hasParam(x.path))) {
      expect((await h.admin.get(fill(r.path))).status).toBe(200);
    }
  });

  it("never lists another project's objects, and refuses to create in or reference another project", async () => {
    const ids = new Set(
      Object.entries(a)
        .filter(([k]) => k !== 'provider' && k !== 'profile' && k !== 'realm' && k !== 'projectB')
        .map(([, v]) => v),
    );
    const failures: string[] = [];
    for (const r of routes.filter((x) => x.method === 'GET' && !hasParam(x.path) && !isGlobal(x.path))) {
      const res = await memberB.get(r.path);
      const leaked = (res.body.items as { id: string }[]).filter((i) => ids.has(i.id));
      if (res.status !== 200 || leaked.length)
        failures.push(`GET ${r.path}: ${res.status}, leaked ${JSON.stringify(leaked)}`);
      const asked = await memberB.get(`${r.path}?project=${a.project}`);
      if (r.path !== '/v1/projects' && asked.status === 200 && asked.body.items.length)
        failures.push(`GET ${r.path}?project=A leaked`);
    }
    for (const r of routes.filter((x) => x.method === 'POST' && !hasParam(x.path))) {
      if (adminWrites(r.path)) {
        await check(memberB, r, 403, failures);
        continue;
      }
      const res = await memberB.post(r.path, { ...(bodies[`POST ${r.path}`] as object), project: a.project });
      const fields = (res.body.errors ?? []).map((e: { field: string }) => e.field);
      // Another project is refused like a project that does not exist (validation of the rest aside).
      if (res.status !== 400 || !fields.includes('project'))
        failures.push(`POST ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(failures).toEqual([]);
    const refs: [string, unknown, string][] = [
      ['/v1/pools', { name: 'x', familyId: a.family }, 'familyId'],
      ['/v1/pool-families', { name: 'x', accountIds: [a.account] }, 'accountIds[0]'],
      ['/v1/image-mappings', { imageId: a.image, accountId: a.account, providerImageId: 'x' }, 'imageId'],
    ];
    for (const [path, body, field] of refs) {
      const res = await memberB.post(path, body);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe(field);
    }
    const matches = await memberB.get(`/v1/hardware-profiles/${a.hardware}/matches?pool=${a.pool}`);
    expect(matches.status).toBe(404);
  });
});
