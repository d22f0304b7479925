import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { answerProblem, bodyArb, queryArb } from './fuzz';
import { send } from './http';
import { fill, isOperational, isStream, Route, routeName } from './routes';
import { readRoutes } from './routes';
import { seed, Seeded } from './seed';
import { startWorld, World } from './world';
import { deepXml, hostileDocuments, mutated, xmlDocument } from './xml-arb';

/** Runs per route: ~70 routes, so about 3,000 requests in all. */
const RUNS = 40;
/** Every service's JSON body limit is 1 MB: 6 MB is well over it. */
const OVERSIZED = 6 * 1024 * 1024;

const DEPLOYABLE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<deployable name="fuzzed">
  <assemblies>
    <assembly name="db1" image="sleeper" hardware_profile="small" escalation_failures="2" escalation_period="600">
      <services>
        <service name="store" class="ocf" provider="heartbeat" type="Dummy" monitor_interval="5s">
          <parameters><parameter name="state"><value>/tmp/x.state</value></parameter></parameters>
        </service>
      </services>
    </assembly>
  </assemblies>
  <constraints/>
</deployable>`;

/**
 * REST fuzzing: for every write route and every list route of every service (from the OpenAPI
 * tables), generated bodies and query strings sent with an admin token. Never a 5xx; every 4xx a
 * problem document; a 400 says what is wrong; oversized bodies → 413; hostile XML → 400.
 */
describe('REST fuzzing (E2E: every service, routes from /docs/openapi.json)', () => {
  let w: World;
  let s: Seeded;
  let routes: Route[];
  let ids: Record<string, string>;

  beforeAll(async () => {
    w = await startWorld('sec_fuzz');
    s = await seed(w);
    routes = await readRoutes(w);
    ids = {
      ...s.global,
      ...s.a,
      ':op': 'start',
      ':version': '1',
      ':server': randomUUID(),
      ':capability': randomBytes(32).toString('hex'),
      ':provider': s.a['provider-accounts']!,
    };
  }, 300_000);

  afterAll(async () => {
    await w?.stop();
  }, 60_000);

  const tokenFor = (r: Route) =>
    r.path === '/v1/alarms/alertmanager' ? w.secrets.alertmanagerToken : w.secrets.bootstrapToken;
  const writes = () => routes.filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method));
  const lists = () => routes.filter((r) => r.method === 'GET' && !/\}$/.test(r.path) && !isOperational(r));

  it('finds the write and list routes of every service', () => {
    expect(new Set(writes().map((r) => r.service)).size).toBe(7);
    expect(writes().length).toBeGreaterThan(40);
    expect(lists().length).toBeGreaterThan(20);
  });

  it('generated bodies on every POST/PUT/PATCH route: no 5xx, every 4xx a problem, a 400 says why', async () => {
    const failures: string[] = [];
    for (const r of writes()) {
      const path = fill(r.path, ids);
      const res = await fc.check(
        fc.asyncProperty(bodyArb(r, s.validBodies[routeName(r)], 1_000_000), async (b) => {
          const a = await send(w.procs[r.service].url, r.method, path, {
            token: tokenFor(r),
            raw: b.raw,
            headers: { ...(b.contentType ? { 'content-type': b.contentType } : {}), 'if-match': 'W/"1"' },
          });
          const p = answerProblem(a);
          if (p) throw new Error(`${b.label}: ${p}`);
        }),
        { numRuns: RUNS },
      );
      if (res.failed)
        failures.push(
          `${r.service} ${routeName(r)}: ${String(res.errorInstance).slice(0, 300)}\n    body: ${JSON.stringify(res.counterexample)?.slice(0, 300)}`,
        );
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('generated query strings on every list route: no 5xx, every 4xx a problem', async () => {
    const failures: string[] = [];
    for (const r of lists()) {
      const path = fill(r.path, ids);
      const res = await fc.check(
        fc.asyncProperty(queryArb(r), async (q) => {
          const a = await send(w.procs[r.service].url, 'GET', `${path}?${q}`, {
            token: tokenFor(r),
            headOnly: isStream(r),
          });
          const p = answerProblem(a);
          if (p) throw new Error(p);
        }),
        { numRuns: RUNS },
      );
      if (res.failed)
        failures.push(
          `${r.service} ${routeName(r)}: ${String(res.errorInstance).slice(0, 300)} ?${res.counterexample}`,
        );
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('oversized bodies → 413 problem on every write route (plain, and gzip-compressed)', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(OVERSIZED) });
    const bomb = gzipSync(Buffer.from(big));
    const wrong: string[] = [];
    for (const r of writes()) {
      const path = fill(r.path, ids);
      const plain = await send(w.procs[r.service].url, r.method, path, {
        token: tokenFor(r),
        raw: big,
        headers: { 'content-type': 'application/json' },
      });
      const zipped = await send(w.procs[r.service].url, r.method, path, {
        token: tokenFor(r),
        raw: bomb,
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      for (const [how, a] of [
        ['plain', plain],
        ['gzip', zipped],
      ] as const)
        if (a.status !== 413 || answerProblem(a))
          wrong.push(`${r.service} ${routeName(r)} (${how}): ${a.status} ${a.text.slice(0, 120)}`);
    }
    for (const ct of ['application/yaml', 'application/xml']) {
      const a = await send(
        w.procs['cloud-policy-engine'].url,
        'POST',
        `/v1/deployables?project=${s.projectA}&start=false`,
        {
          token: s.admin,
          raw: `${ct.endsWith('xml') ? '<deployable>' : 'name: '}${'x'.repeat(OVERSIZED)}`,
          headers: { 'content-type': ct },
        },
      );
      if (a.status !== 413 || answerProblem(a)) wrong.push(`POST /v1/deployables as ${ct}: ${a.status}`);
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  describe('the deployable endpoint with XML and YAML documents', () => {
    const post = (raw: string, contentType: string) =>
      send(w.procs['cloud-policy-engine'].url, 'POST', `/v1/deployables?project=${s.projectA}&start=false`, {
        token: s.admin,
        raw,
        headers: { 'content-type': contentType },
      });

    // 422: a well-formed deployable the pool cannot serve (an image or hardware profile a mutation
    // renamed), a problem naming what is missing.
    it('generated and mutated XML: 201, 400, 409 or 422, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(xmlDocument, mutated(DEPLOYABLE_XML)), async (doc) => {
          const a = await post(doc, 'application/xml');
          expect(answerProblem(a)).toBeUndefined();
          expect([201, 400, 409, 422]).toContain(a.status);
          if (a.status === 422) expect(a.text).toMatch(/image|hardware|profile|pool/i);
        }),
        { numRuns: 150 },
      );
    }, 120_000);

    it('XML bombs, external entities and deep nesting → 400', async () => {
      const docs = [
        ...hostileDocuments('deployable'),
        deepXml('deployable', 100_000),
        // An external entity spliced into the valid document.
        DEPLOYABLE_XML.replace(
          '<deployable',
          '<!DOCTYPE deployable [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<deployable',
        ).replace('name="fuzzed"', 'name="&x;"'),
      ];
      for (const doc of docs) {
        const a = await post(doc, 'application/xml');
        expect({ status: a.status, problem: answerProblem(a) }).toEqual({ status: 400, problem: undefined });
        expect(a.text).not.toContain('root:x:0:0');
      }
      // The same over PUT.
      const put = await send(
        w.procs['cloud-policy-engine'].url,
        'PUT',
        `/v1/deployables/${s.a.deployables}`,
        {
          token: s.admin,
          raw: docs[0],
          headers: { 'content-type': 'text/xml' },
        },
      );
      expect(put.status).toBe(400);
    }, 60_000);

    it('generated YAML and YAML alias bombs: never a 5xx, bombs → 400', async () => {
      await fc.assert(
        fc.asyncProperty(fc.string({ maxLength: 300 }), async (doc) => {
          const a = await post(doc, 'application/yaml');
          expect(answerProblem(a)).toBeUndefined();
        }),
        { numRuns: 100 },
      );
      const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 9; i++) {
        const [prev, cur] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
        levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      for (const doc of [
        levels.join('\n'),
        '['.repeat(100_000) + ']'.repeat(100_000),
        '!!js/function "x"',
        'name: !!binary AAAA',
      ]) {
        const a = await post(doc, 'application/yaml');
        expect({ status: a.status, problem: answerProblem(a) }).toEqual({ status: 400, problem: undefined });
      }
    }, 60_000);
  });

  it('appliance templates nested deep (JSON or YAML text) → 400, and clusters never 5xx', async () => {
    const n = 5_000;
    const deep = {
      json: `{"name":"deep","assemblies":[],"x":${'['.repeat(n)}${']'.repeat(n)}}`,
      yaml: `name: deep\nx: ${'['.repeat(n)}${']'.repeat(n)}`,
    };
    for (const [templateFormat, template] of Object.entries(deep)) {
      const a = await send(
        w.procs['config-api'].url,
        'POST',
        `/v1/appliances/${s.a.appliances}/implementations`,
        {
          token: s.admin,
          body: {
            providerId: s.global.providers,
            templateVersion: `deep-${templateFormat}`,
            templateFormat,
            template,
          },
        },
      );
      expect({ status: a.status, problem: answerProblem(a) }).toEqual({ status: 400, problem: undefined });
    }
    await fc.assert(
      fc.asyncProperty(
        bodyArb(
          routes.find((r) => r.path === '/v1/clusters')!,
          { name: 'c1', appliance: 'hello' },
          100_000,
        ),
        async (b) => {
          const a = await send(
            w.procs['cloud-policy-engine'].url,
            'POST',
            `/v1/clusters?project=${s.projectA}`,
            {
              token: s.admin,
              raw: b.raw,
              headers: b.contentType ? { 'content-type': b.contentType } : {},
            },
          );
          expect(answerProblem(a)).toBeUndefined();
        },
      ),
      { numRuns: 30 },
    );
  }, 60_000);

  it('every service is alive and healthy afterwards', async () => {
    for (const p of w.all) {
      const alive = await send(p.url, 'GET', '/healthz').catch(() => undefined);
      if (p.child?.exitCode !== null || alive?.status !== 200)
        console.log(
          `${p.app} (exit ${p.child?.exitCode}, healthz ${alive?.status}):\n${p.output.slice(-6000)}`,
        );
      expect({ app: p.app, exitCode: p.child?.exitCode ?? null }).toEqual({ app: p.app, exitCode: null });
      const h = await send(p.url, 'GET', '/healthz');
      expect({ app: p.app, status: h.status }).toEqual({ app: p.app, status: 200 });
    }
  });
});
