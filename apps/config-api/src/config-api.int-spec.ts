import { Client as Pg } from 'pg';
import {
  AccountCredentials,
  ConfigExport,
  createEvent,
  ProjectResolve,
  TokenIntrospect,
} from '@nephele/contracts';
import { generateMasterKey } from '@nephele/crypto';
import { waitFor } from '@nephele/testing';
import { ADMIN, Harness, startHarness } from './test/harness';

const MASTER = generateMasterKey();

describe('config-api (real PostgreSQL + RabbitMQ)', () => {
  let h: Harness;
  let pg: Pg;
  let project: string;
  let provider: any;
  let cheapProvider: any;

  beforeAll(async () => {
    h = await startHarness('configapi', { NEPHELE_MASTER_KEY: MASTER });
    pg = new Pg({ connectionString: h.db.url });
    await pg.connect();
    project = (await h.admin.create('/v1/projects', { name: 'shop' })).id;
    provider = await h.admin.create('/v1/providers', {
      name: 'lab',
      kind: 'openstack',
      endpoint: 'https://keystone.lab:5000/v3',
    });
    cheapProvider = await h.admin.create('/v1/providers', { name: 'sim', kind: 'simulated' });
  });

  afterAll(async () => {
    await pg?.end();
    await h?.close();
  });

  it('migrates the config_api schema with its constraints', async () => {
    const { rows } = await pg.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'config_api' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'appliance_implementations',
        'appliances',
        'hardware_profiles',
        'image_mappings',
        'images',
        'outbox',
        'pool_family_accounts',
        'pool_families',
        'pools',
        'processed_messages',
        'projects',
        'provider_accounts',
        'provider_profiles',
        'providers',
        'realms',
        'tokens',
      ]),
    );
    // The database itself refuses what the API would never write.
    await expect(
      pg.query(`INSERT INTO config_api.tokens (id, name, role, project_id, token_hash, created_by)
                VALUES (gen_random_uuid(), 'x', 'member', NULL, 'h', 't')`),
    ).rejects.toThrow(/tokens_admin_has_no_project/);
    await expect(
      pg.query(
        `INSERT INTO config_api.pools (id, project_id, name, family_id) VALUES (gen_random_uuid(), $1, 'p', gen_random_uuid())`,
        [project],
      ),
    ).rejects.toThrow(/foreign key/);
    await expect(
      pg.query(
        `INSERT INTO config_api.provider_accounts (id, project_id, provider_id, name, credentials) VALUES (gen_random_uuid(), $1, $2, 'a', '{"password":"x"}')`,
        [project, provider.id],
      ),
    ).rejects.toThrow(/provider_accounts_sealed/);
  });

  it('creates with 201, Location and ETag; refuses a name clash with 409', async () => {
    const r = await h.admin.post('/v1/images', { project, name: 'ubuntu', os: 'linux', arch: 'x86_64' });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/v1/images/${r.body.id}`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(r.body).toMatchObject({ project, name: 'ubuntu', os: 'linux', version: 1 });
    const again = await h.admin.post('/v1/images', { project, name: 'ubuntu' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(again.body.detail).toBe('an image with that name already exists in this project');
    const got = await h.admin.get(`/v1/images/${r.body.id}`);
    expect(got.headers.get('etag')).toBe('W/"1"');
  });

  it('validates with 400 naming each bad field', async () => {
    const r = await h.admin.post('/v1/pools', {
      project,
      name: '',
      familyId: 'not-a-uuid',
      quota: { maxCores: -1, bogus: 1 },
      extra: true,
    });
    expect(r.status).toBe(400);
    const fields = r.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining(['name', 'familyId', 'quota.maxCores', 'quota.bogus', 'extra']),
    );
    const noProject = await h.admin.post('/v1/images', { name: 'x' });
    expect(noProject.status).toBe(400);
    expect(noProject.body.errors).toEqual([
      { field: 'project', message: expect.stringMatching(/admin token must name/) },
    ]);
    const unknownProject = await h.admin.post('/v1/images', {
      name: 'x',
      project: '00000000-0000-4000-8000-000000000000',
    });
    expect(unknownProject.status).toBe(400);
    expect(unknownProject.body.errors[0]).toEqual({ field: 'project', message: 'no such project' });
    const badRange = await h.admin.post('/v1/hardware-profiles', {
      project,
      name: 'r',
      cpu: { min: 4, max: 2 },
    });
    expect(badRange.status).toBe(400);
    expect(badRange.body.errors[0].field).toBe('cpu');
    const secretOption = await h.admin.post('/v1/providers', {
      name: 'x',
      kind: 'ec2',
      options: { auth: { secretKey: 'x' } },
    });
    expect(secretOption.status).toBe(400);
    expect(secretOption.body.errors[0].field).toBe('options.auth.secretKey');
  });

  it('updates with If-Match: 412 when stale, a new ETag when current', async () => {
    const fam = await h.admin.create('/v1/pool-families', { project, name: 'etag-fam' });
    const stale = await h.admin.patch(
      `/v1/pool-families/${fam.id}`,
      { description: 'x' },
      { 'if-match': 'W/"7"' },
    );
    expect(stale.status).toBe(412);
    const ok = await h.admin.patch(
      `/v1/pool-families/${fam.id}`,
      { description: 'x' },
      { 'if-match': 'W/"1"' },
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('W/"2"');
    expect(ok.body).toMatchObject({ description: 'x', version: 2 });
    const del = await h.admin.del(`/v1/pool-families/${fam.id}`, { 'if-match': 'W/"1"' });
    expect(del.status).toBe(412);
    expect((await h.admin.del(`/v1/pool-families/${fam.id}`, { 'if-match': 'W/"2"' })).status).toBe(204);
    expect((await h.admin.get(`/v1/pool-families/${fam.id}`)).status).toBe(404);
  });

  it('builds a pool from accounts and families; refuses to delete what is still referenced, saying what', async () => {
    const account = await h.admin.create('/v1/provider-accounts', {
      project,
      providerId: provider.id,
      name: 'lab-main',
      credentials: { username: 'svc', password: 'pw-ref-test' },
      quota: { maxInstances: 10, maxCores: 40 },
      priority: 1,
      weight: 3,
    });
    expect(account).toMatchObject({
      hasCredentials: true,
      quota: { maxInstances: 10, maxCores: 40 },
      priority: 1,
      weight: 3,
    });
    expect(account.credentials).toBeUndefined();
    const family = await h.admin.create('/v1/pool-families', {
      project,
      name: 'general',
      accountIds: [account.id],
    });
    expect(family.accountIds).toEqual([account.id]);
    const pool = await h.admin.create('/v1/pools', {
      project,
      name: 'web',
      familyId: family.id,
      quota: { maxInstances: 5 },
    });
    expect(pool).toMatchObject({ familyId: family.id, enabled: true, quota: { maxInstances: 5 } });

    const delAccount = await h.admin.del(`/v1/provider-accounts/${account.id}`);
    expect(delAccount.status).toBe(409);
    expect(delAccount.body.detail).toContain(`pool family "general" (${family.id})`);
    expect(delAccount.body.references).toEqual([
      { resource: 'pool-families', id: family.id, name: 'general' },
    ]);
    const delFamily = await h.admin.del(`/v1/pool-families/${family.id}`);
    expect(delFamily.status).toBe(409);
    expect(delFamily.body.detail).toContain(`pool "web" (${pool.id})`);
    const delProvider = await h.admin.del(`/v1/providers/${provider.id}`);
    expect(delProvider.status).toBe(409);
    expect(delProvider.body.detail).toContain('provider account "lab-main"');
    const delProject = await h.admin.del(`/v1/projects/${project}`);
    expect(delProject.status).toBe(409);

    const otherFamily = await h.admin.post('/v1/pool-families', {
      project,
      name: 'bad',
      accountIds: [account.id, '00000000-0000-4000-8000-000000000001'],
    });
    expect(otherFamily.status).toBe(400);
    expect(otherFamily.body.errors).toEqual([
      {
        field: 'accountIds[1]',
        message: 'no provider account with id 00000000-0000-4000-8000-000000000001 in this project',
      },
    ]);
    const moved = await h.admin.patch(`/v1/pool-families/${family.id}`, { accountIds: [] });
    expect(moved.body.accountIds).toEqual([]);
    expect((await h.admin.patch(`/v1/pool-families/${family.id}`, { accountIds: [account.id] })).status).toBe(
      200,
    );
  });

  it('pages lists with a cursor and filters them', async () => {
    for (let i = 0; i < 5; i++)
      await h.admin.create('/v1/images', { project, name: `page-${i}`, os: i % 2 ? 'windows' : 'linux' });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: any = await h.admin.get(
        `/v1/images?project=${project}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((i: { name: string }) => i.name));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.filter((n) => n.startsWith('page-'))).toEqual([
      'page-0',
      'page-1',
      'page-2',
      'page-3',
      'page-4',
    ]);
    expect(pages).toBeGreaterThanOrEqual(3);
    const windows = await h.admin.get(`/v1/images?os=windows`);
    expect(windows.body.items.map((i: { name: string }) => i.name)).toEqual(['page-1', 'page-3']);
    const byName = await h.admin.get(`/v1/images?name=page-2`);
    expect(byName.body.items).toHaveLength(1);
    expect((await h.admin.get('/v1/images?limit=0')).status).toBe(400);
    const bad = await h.admin.get('/v1/images?cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('cursor');
    expect((await h.admin.get('/v1/pools?enabled=maybe')).status).toBe(400);
  });

  it('matches a hardware profile against provider profiles: smallest, then cheapest, with reasons', async () => {
    const add = (
      prov: string,
      name: string,
      cpu: number,
      memoryMb: number,
      costPerHour: number,
      arch = 'x86_64',
    ) =>
      h.admin.create(`/v1/providers/${prov}/profiles`, {
        name,
        cpu,
        memoryMb,
        storageGb: 20,
        arch,
        costPerHour,
      });
    const tiny = await add(provider.id, 'tiny', 1, 512, 0.01);
    const medLab = await add(provider.id, 'medium', 2, 4096, 0.2);
    const medSim = await add(cheapProvider.id, 'medium', 2, 4096, 0.1);
    const big = await add(provider.id, 'big', 8, 16384, 0.9);
    const arm = await add(provider.id, 'arm', 2, 4096, 0.05, 'aarch64');
    const hw = await h.admin.create('/v1/hardware-profiles', {
      project,
      name: 'web-node',
      cpu: { min: 2 },
      memoryMb: { min: 2048, max: 8192 },
      arch: 'x86_64',
    });
    const all = await h.admin.get(`/v1/hardware-profiles/${hw.id}/matches`);
    expect(all.status).toBe(200);
    expect(all.body.chosen).toMatchObject({ id: medSim.id, providerName: 'sim', costPerHour: 0.1 });
    expect(all.body.matches.map((m: { id: string }) => m.id)).toEqual([medSim.id, medLab.id]);
    const why = Object.fromEntries(
      all.body.rejections.map((r: { profileId: string; reason: string }) => [r.profileId, r.reason]),
    );
    expect(why[tiny.id]).toMatch(/1 cpu is less than the 2 asked/);
    expect(why[big.id]).toMatch(/16384 MB memory is more than the 8192 allowed/);
    expect(why[arm.id]).toBe('arch aarch64 is not x86_64');

    // Through a pool: only the providers of its family's accounts (here: lab only).
    const pool = (await h.admin.get(`/v1/pools?name=web`)).body.items[0];
    const viaPool = await h.admin.get(`/v1/hardware-profiles/${hw.id}/matches?pool=${pool.id}`);
    expect(viaPool.body.chosen).toMatchObject({ id: medLab.id, providerName: 'lab' });
    expect(viaPool.body.chosen.accountIds).toHaveLength(1);
    expect(viaPool.body.matches.map((m: { id: string }) => m.id)).toEqual([medLab.id]);

    await h.admin.patch(`/v1/providers/${cheapProvider.id}`, { enabled: false });
    const disabled = await h.admin.get(`/v1/hardware-profiles/${hw.id}/matches`);
    expect(disabled.body.chosen.id).toBe(medLab.id);
    expect(disabled.body.rejections).toContainEqual({
      profileId: medSim.id,
      reason: 'provider sim is disabled',
    });
    await h.admin.patch(`/v1/providers/${cheapProvider.id}`, { enabled: true });
    const badPool = await h.admin.get(
      `/v1/hardware-profiles/${hw.id}/matches?pool=00000000-0000-4000-8000-000000000000`,
    );
    expect(badPool.status).toBe(400);
    expect(badPool.body.errors[0].field).toBe('pool');
  });

  it('maps images to provider accounts, one mapping per pair', async () => {
    const image = await h.admin.create('/v1/images', { project, name: 'centos' });
    const account = (await h.admin.get(`/v1/provider-accounts?name=lab-main`)).body.items[0];
    const m = await h.admin.create('/v1/image-mappings', {
      project,
      imageId: image.id,
      accountId: account.id,
      providerImageId: 'img-123',
    });
    expect(m).toMatchObject({ imageId: image.id, accountId: account.id, providerImageId: 'img-123' });
    const dup = await h.admin.post('/v1/image-mappings', {
      project,
      imageId: image.id,
      accountId: account.id,
      providerImageId: 'img-9',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.detail).toBe('this image already has a mapping for that provider account');
    const delImage = await h.admin.del(`/v1/images/${image.id}`);
    expect(delImage.status).toBe(409);
    expect(delImage.body.detail).toContain('image mapping "img-123"');
    const filtered = await h.admin.get(`/v1/image-mappings?imageId=${image.id}`);
    expect(filtered.body.items.map((x: { id: string }) => x.id)).toEqual([m.id]);
  });

  it('keeps appliances with per-provider implementations (YAML, JSON or object templates)', async () => {
    const appliance = await h.admin.create('/v1/appliances', { project, name: 'wordpress' });
    const base = `/v1/appliances/${appliance.id}/implementations`;
    const yamlText = 'assemblies:\n  - name: web\n    image: ubuntu\n';
    const impl = await h.admin.create(base, {
      providerId: provider.id,
      templateVersion: '1.0.0',
      template: yamlText,
      parameters: [{ name: 'admin_email', type: 'string', required: true }],
      outputs: [{ name: 'url' }],
    });
    expect(impl).toMatchObject({
      applianceId: appliance.id,
      templateFormat: 'yaml',
      template: yamlText,
      project,
    });
    const obj = await h.admin.create(base, {
      providerId: cheapProvider.id,
      templateVersion: '1.0.0',
      template: { assemblies: [] },
    });
    expect(obj).toMatchObject({ templateFormat: 'object', template: { assemblies: [] } });
    const dup = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '1.0.0',
      template: '{}',
    });
    expect(dup.status).toBe(409);
    const badYaml = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '2',
      template: 'a: [1, 2',
    });
    expect(badYaml.status).toBe(400);
    expect(badYaml.body.errors[0]).toMatchObject({
      field: 'template',
      message: expect.stringMatching(/^not valid YAML/),
    });
    const twice = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '3',
      template: '{}',
      parameters: [
        { name: 'a', type: 'string' },
        { name: 'a', type: 'number' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0].field).toBe('parameters[1].name');
    const badType = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '4',
      template: '{}',
      parameters: [{ name: 'a', type: 'blob' }],
    });
    expect(badType.status).toBe(400);
    expect(badType.body.errors[0].field).toBe('parameters[0].type');
    // HOT templates (an OpenStack appliance implementation) are held to the subset Nephele serves.
    const hot = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '5',
      template:
        'heat_template_version: 2018-08-31\nresources:\n  web:\n    type: OS::Nova::Server\n    properties: {image: sleeper, flavor: small}\noutputs:\n  ip: {value: {get_attr: [web, first_address]}}\n',
    });
    expect(hot.status).toBe(201);
    const badHot = await h.admin.post(base, {
      providerId: provider.id,
      templateVersion: '6',
      template: { heat_template_version: '2018-08-31', resources: { net: { type: 'OS::Neutron::Net' } } },
    });
    expect(badHot.status).toBe(400);
    expect(badHot.body.errors).toEqual([
      {
        field: 'template.resources.net.type',
        message: expect.stringMatching(/OS::Neutron::Net\) is not supported/),
      },
    ]);
    expect((await h.admin.del(`/v1/appliances/${appliance.id}`)).status).toBe(409);
    expect((await h.admin.get(`${base}?templateVersion=1.0.0`)).body.items).toHaveLength(2);
    expect(
      (await h.admin.get(`/v1/appliances/00000000-0000-4000-8000-000000000000/implementations`)).status,
    ).toBe(404);
  });

  it('publishes nephele.config.changed and nephele.audit.<resource>.<action> through the outbox', async () => {
    const fam = (await h.admin.get('/v1/pool-families?name=general')).body.items[0];
    const pool = await h.admin.create('/v1/pools', { project, name: 'audited', familyId: fam.id });
    await h.admin.patch(`/v1/pools/${pool.id}`, { enabled: false });
    await h.admin.del(`/v1/pools/${pool.id}`);
    const aboutPool = () => h.events().filter((e) => e.subject === pool.id);
    await waitFor(() => aboutPool().length >= 6, { what: 'six events about the pool' });
    const about = aboutPool();
    const changed = about.filter((e) => e.type === 'nephele.config.changed').map((e) => e.data as any);
    expect(changed).toEqual([
      { resource: 'pools', id: pool.id, action: 'created', project, version: 1 },
      { resource: 'pools', id: pool.id, action: 'updated', project, version: 2 },
      { resource: 'pools', id: pool.id, action: 'deleted', project },
    ]);
    const audits = about.filter((e) => e.type.startsWith('nephele.audit.'));
    expect(audits.map((e) => e.type)).toEqual([
      'nephele.audit.pools.created',
      'nephele.audit.pools.updated',
      'nephele.audit.pools.deleted',
    ]);
    expect(audits[1]!.data).toMatchObject({
      actor: 'bootstrap',
      action: 'updated',
      resource: 'pools',
      resourceId: pool.id,
      project,
      before: { enabled: true, name: 'audited' },
      after: { enabled: false, name: 'audited' },
    });
    expect(audits.every((e) => e.source === '/nephele/config-api')).toBe(true);
    const { rows } = await pg.query(`SELECT count(*)::int AS n FROM config_api.outbox WHERE sent_at IS NULL`);
    expect(rows[0].n).toBe(0);
  });

  it('answers the bus requests: config export, account credentials, token introspection', async () => {
    const snapshot: any = await h.bus.request(createEvent('int', ConfigExport.type, {}), {
      timeoutMs: 10_000,
    });
    expect(snapshot.providers.map((p: { name: string }) => p.name).sort()).toEqual(['lab', 'sim']);
    expect(snapshot.pools.map((p: { name: string }) => p.name)).toContain('web');
    expect(snapshot.providerProfiles.length).toBeGreaterThanOrEqual(5);
    expect(snapshot.poolFamilies.find((f: { name: string }) => f.name === 'general').accountIds).toHaveLength(
      1,
    );
    expect(Object.keys(snapshot).sort()).toEqual(
      [
        'generatedAt',
        'hardwareProfiles',
        'imageMappings',
        'images',
        'poolFamilies',
        'pools',
        'providerAccounts',
        'providerProfiles',
        'providers',
        'realms',
      ].sort(),
    );
    const account = snapshot.providerAccounts.find((a: { name: string }) => a.name === 'lab-main');
    expect(account).toMatchObject({ hasCredentials: true, providerId: provider.id, project });
    expect(JSON.stringify(snapshot)).not.toContain('pw-ref-test');

    const otherProject = (await h.admin.create('/v1/projects', { name: 'other' })).id;
    const scoped: any = await h.bus.request(createEvent('int', ConfigExport.type, { project: otherProject }));
    expect(scoped.pools).toEqual([]);
    expect(scoped.providers).toHaveLength(2);

    const creds: any = await h.bus.request(
      createEvent('int', AccountCredentials.type, { accountId: account.id }),
    );
    expect(creds).toEqual({
      accountId: account.id,
      providerId: provider.id,
      credentials: { username: 'svc', password: 'pw-ref-test' },
    });
    await expect(
      h.bus.request(
        createEvent('int', AccountCredentials.type, { accountId: '00000000-0000-4000-8000-000000000000' }),
      ),
    ).rejects.toThrow(/not found/);
    await expect(
      h.bus.request(createEvent('int', AccountCredentials.type, { accountId: 'nope' })),
    ).rejects.toThrow(/accountId/);

    const minted = await h.admin.create('/v1/tokens', { project, role: 'viewer', name: 'bus-viewer' });
    expect(minted.token).toMatch(/^nph_[A-Za-z0-9_-]{43}$/);
    const who: any = await h.bus.request(createEvent('int', TokenIntrospect.type, { token: minted.token }));
    expect(who).toEqual({ tokenId: minted.id, role: 'viewer', project });
    expect(
      await h.bus.request(createEvent('int', TokenIntrospect.type, { token: 'nph_unknown' })),
    ).toBeNull();
    expect(await h.bus.request(createEvent('int', TokenIntrospect.type, { token: ADMIN }))).toEqual({
      tokenId: 'bootstrap',
      role: 'admin',
    });
    expect((await h.admin.del(`/v1/tokens/${minted.id}`)).status).toBe(204);
    expect(await h.bus.request(createEvent('int', TokenIntrospect.type, { token: minted.token }))).toBeNull();
    // Projects by name or id (OpenStack project scopes name them).
    for (const ref of ['shop', project])
      expect(await h.bus.request(createEvent('int', ProjectResolve.type, { project: ref }))).toEqual({
        id: project,
        name: 'shop',
      });
    expect(await h.bus.request(createEvent('int', ProjectResolve.type, { project: 'nope' }))).toBeNull();
  });

  it('issues tokens shown once and stored hashed; revocation takes effect at once here', async () => {
    const member = await h.admin.create('/v1/tokens', { project, role: 'member', name: 'ci' });
    expect(member).toMatchObject({ role: 'member', project, name: 'ci' });
    const asMember = h.admin.as(member.token);
    expect((await asMember.get(`/v1/tokens/${member.id}`)).body.token).toBeUndefined();
    const { rows } = await pg.query(`SELECT token_hash FROM config_api.tokens WHERE id = $1`, [member.id]);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].token_hash).not.toContain(member.token);
    // A member mints viewers of its own project, never admins.
    const viewer = await asMember.post('/v1/tokens', { role: 'viewer', name: 'ro' });
    expect(viewer.status).toBe(201);
    expect(viewer.body.project).toBe(project);
    expect((await asMember.post('/v1/tokens', { role: 'admin', name: 'up' })).status).toBe(403);
    expect((await h.admin.post('/v1/tokens', { role: 'admin', name: 'x', project })).status).toBe(400);
    expect((await h.admin.post('/v1/tokens', { role: 'member', name: 'x' })).status).toBe(400);
    expect((await asMember.get('/v1/images')).status).toBe(200);
    expect((await h.admin.del(`/v1/tokens/${member.id}`)).status).toBe(204);
    expect((await asMember.get('/v1/images')).status).toBe(401);
    const listed = await h.admin.get(`/v1/tokens?project=${project}`);
    expect(listed.body.items.map((t: { id: string }) => t.id)).not.toContain(member.id);
    expect((await h.admin.get(`/v1/tokens/${member.id}`)).body.revokedAt).toEqual(expect.any(String));
    const audit = await waitFor(() =>
      h.events().find((e) => e.type === 'nephele.audit.tokens.revoked' && e.subject === member.id),
    );
    expect(JSON.stringify(audit)).not.toContain(member.token);
  });

  it('serves OpenAPI with the DTOs of every resource', async () => {
    const doc = (await h.admin.get('/docs/openapi.json')).body;
    expect(doc.paths['/v1/pools'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreatePoolDto',
    );
    expect(doc.components.schemas.CreateProviderAccountDto.properties).toHaveProperty('credentials');
    expect(doc.paths['/v1/pools'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor', 'project', 'familyId', 'enabled']),
    );
  });
});
