import { Harness, startHarness } from '../test/harness';

/** See Note [Host drivers]: `local` providers run processes on the control-plane host. */
describe('host-process providers are admin-only infrastructure', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness('configapi_hostprov', { NEPHELE_MASTER_KEY: '22'.repeat(32) });
    const ad = h.admin;
    ids.project = (await ad.create('/v1/projects', { name: 'tenant' })).id;
    ids.local = (await ad.create('/v1/providers', { name: 'local-default', kind: 'local' })).id;
    ids.sim = (await ad.create('/v1/providers', { name: 'sim', kind: 'simulated' })).id;
    ids.member = (await ad.create('/v1/tokens', { project: ids.project, role: 'member', name: 'm' })).token;
    // An admin shares a local account (and so its pools) with the project.
    ids.shared = (
      await ad.create('/v1/provider-accounts', {
        project: ids.project,
        providerId: ids.local,
        name: 'shared',
      })
    ).id;
    ids.image = (await ad.create('/v1/images', { project: ids.project, name: 'debian' })).id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses a member an account on a local provider (403 naming providerId), allows other kinds', async () => {
    const m = h.admin.as(ids.member);
    const r = await m.post('/v1/provider-accounts', { providerId: ids.local, name: 'mine' });
    expect(r.status).toBe(403);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body.errors).toEqual([expect.objectContaining({ field: 'providerId' })]);
    expect((await m.post('/v1/provider-accounts', { providerId: ids.sim, name: 'sim' })).status).toBe(201);
    const listed = await m.get('/v1/provider-accounts?limit=100');
    expect(listed.body.items.map((a: { name: string }) => a.name).sort()).toEqual(['shared', 'sim']);
  });

  it('refuses a member an image mapping or a change on the shared local account; an admin may', async () => {
    const m = h.admin.as(ids.member);
    const mapping = { imageId: ids.image, accountId: ids.shared, providerImageId: 'agent' };
    const r = await m.post('/v1/image-mappings', mapping);
    expect(r.status).toBe(403);
    expect(r.body.errors).toEqual([expect.objectContaining({ field: 'accountId' })]);
    const acct = await m.get(`/v1/provider-accounts/${ids.shared}`);
    expect(acct.status).toBe(200);
    const patch = await m.patch(
      `/v1/provider-accounts/${ids.shared}`,
      { priority: 1 },
      { 'if-match': acct.headers.get('etag')! },
    );
    expect(patch.status).toBe(403);
    expect((await h.admin.post('/v1/image-mappings', { ...mapping, project: ids.project })).status).toBe(201);
  });
});
