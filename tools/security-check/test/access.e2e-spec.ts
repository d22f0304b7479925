import { accessMatrix, AccessRow, table } from './access';
import { waitFor } from '@nephele/testing';
import { send } from './http';
import { readRoutes, Route, routeName } from './routes';
import { seed, Seeded } from './seed';
import { SERVICES, startWorld, World } from './world';

/**
 * Route access matrix: every service as its own process; the cases are generated from each
 * service's OpenAPI route table, so a new route is checked without touching this file.
 */
describe('route access matrix (E2E: every service, cases from /docs/openapi.json)', () => {
  let w: World;
  let s: Seeded;
  let routes: Route[];
  let rows: AccessRow[];

  beforeAll(async () => {
    w = await startWorld('sec_access');
    s = await seed(w);
    routes = await readRoutes(w);
    rows = await accessMatrix(w, s, routes);
  }, 300_000);

  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  it('reads a route table from every service and checks every route', () => {
    for (const svc of SERVICES) expect(routes.filter((r) => r.service === svc).length).toBeGreaterThan(3);
    // Each route got at least its no-token check.
    const checked = new Set(rows.map((r) => r.route));
    const missing = routes.filter((r) => !checked.has(`${r.service} ${routeName(r)}`));
    expect(missing.map(routeName)).toEqual([]);
  });

  it('no token → 401, viewer writes → 403, another project → 404 like a random id, never 2xx/5xx when refused', () => {
    const failed = rows.filter((r) => !r.ok);
    if (failed.length)
      console.log(`route access matrix (${failed.length} of ${rows.length} failed):\n${table(rows)}`);
    expect(failed.map((r) => `${r.route} [${r.check}] want ${r.expected}, got ${r.got}`)).toEqual([]);
  });

  it('a project token cannot log Nephele’s own event types (they act on every project), only its own', async () => {
    const event = (type: string) => ({
      specversion: '1.0',
      id: `${type}-${Date.now()}`,
      source: '/security-check',
      type,
      data: { labels: { alertname: 'HighLoad' } },
    });
    const post = (token: string, body: unknown) =>
      send(w.procs['event-log'].url, 'POST', '/v1/events', { token, body });
    for (const type of [
      'nephele.alarm.triggered',
      'nephele.instance.state_changed',
      'nephele.audit.created',
    ]) {
      expect((await post(s.memberB.token, event(type))).status).toBe(403);
      expect((await post(s.memberB.token, [event('com.example.ok'), event(type)])).status).toBe(403);
    }
    expect((await post(s.memberB.token, event('com.example.deploy'))).status).toBe(202);
    expect((await post(s.admin, event('nephele.alarm.triggered'))).status).toBe(202);
  });

  it('the event log is per project: a project reads and logs only its own events, an admin sees all', async () => {
    const el = w.procs['event-log'].url;
    const list = async (token: string, q = '') =>
      ((await send(el, 'GET', `/v1/events?limit=1000${q}`, { token })).json as { items: any[] }).items;
    // Project B's member claims project A in the event: it is logged into project B all the same.
    const id = `claims-a-${Date.now()}`;
    const body = {
      specversion: '1.0',
      id,
      source: '/b',
      type: 'com.example.b',
      project: s.projectA,
      data: {},
    };
    expect((await send(el, 'POST', '/v1/events', { token: s.memberB.token, body })).status).toBe(202);
    await waitFor(
      async () => (await send(el, 'GET', `/v1/events/${id}`, { token: s.admin })).status === 200,
      {
        what: 'B’s event stored',
      },
    );
    const asAdmin = await send(el, 'GET', `/v1/events/${id}`, { token: s.admin });
    expect((asAdmin.json as { project: string }).project).toBe(s.projectB);
    expect((await send(el, 'GET', `/v1/events/${id}`, { token: s.viewerB.token })).status).toBe(200);
    expect((await send(el, 'GET', `/v1/events/${id}`, { token: s.memberA.token })).status).toBe(404);

    const a = await list(s.memberA.token);
    const b = await list(s.viewerB.token);
    expect(a.map((e) => e.id)).toContain(s.a.events);
    expect(b.map((e) => e.id)).toContain(id);
    expect(a.every((e) => e.project === s.projectA || e.data?.project === s.projectA)).toBe(true);
    expect(b.every((e) => e.project === s.projectB || e.data?.project === s.projectB)).toBe(true);
    const all = (await list(s.admin, '&type=com.example.*')).map((e) => e.id);
    expect(all).toEqual(expect.arrayContaining([s.a.events, id]));
  });

  it('covers the three refusals on every kind of route', () => {
    const count = (check: string) => rows.filter((r) => r.check === check).length;
    expect(count('no token')).toBe(routes.length);
    expect(count('viewer write')).toBeGreaterThan(50);
    expect(count('other project')).toBeGreaterThan(70);
    expect(count('own project read')).toBeGreaterThan(30);
  });
});
