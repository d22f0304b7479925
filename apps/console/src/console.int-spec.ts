import { INestApplication, Module } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { CoreModule, createHttpApp } from '@nephele/service-kit';
import { ConsoleModule } from './console.module';

const TOKEN = 'console-ui-test-token-0123456789abcdef';

/** What the fake API answers; each test sets what it needs. */
interface FakeApi {
  deployables: { status: number; body: unknown };
  groups: { status: number; body: unknown };
  groupStates: Record<string, unknown>;
  authorizations: Set<string>;
  streamResumes: (string | undefined)[];
}

const SHOP_ID = '11111111-1111-4111-8111-111111111111';

function deployable(status: string) {
  return {
    id: SHOP_ID,
    name: 'shop',
    version: 1,
    status,
    reason: status === 'running' ? '2 services running on 2 assemblies' : 'web1/httpd failed',
    assemblies: [
      {
        name: 'db1',
        state: 'online',
        instanceId: 'aaaaaaaa-0000-4000-8000-000000000001',
        addresses: ['10.0.0.5'],
        services: [{ name: 'db1/store', state: 'running' }],
      },
      {
        name: 'web1',
        state: status === 'running' ? 'online' : 'failed',
        instanceId: 'aaaaaaaa-0000-4000-8000-000000000002',
        addresses: [],
        services: [{ name: 'web1/httpd', state: status === 'running' ? 'running' : 'failed' }],
      },
    ],
  };
}

const sseEvent = (id: string, type: string): string =>
  `id: ${id}\ndata: ${JSON.stringify({ specversion: '1.0', id: `ev-${id}`, source: '/t', type, subject: 'shop', time: '2026-01-02T03:04:05Z' })}\n\n`;

/**
 * The console page in a real browser against a fake API served from the same origin: what the
 * all-in-one cannot show yet (assemblies, services, groups, problem details, stream resume).
 */
describe('console page (headless Chromium, fake API)', () => {
  let app: INestApplication;
  let base: string;
  let profileDir: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const fake: FakeApi = {
    deployables: { status: 200, body: { items: [deployable('degraded')], nextCursor: null } },
    groups: { status: 404, body: { title: 'Not Found', status: 404, detail: 'Cannot GET /v1/groups' } },
    groupStates: {},
    authorizations: new Set(),
    streamResumes: [],
  };

  function fakeApi(req: Request, res: Response, next: NextFunction): void {
    if (!req.path.startsWith('/v1/')) return next();
    fake.authorizations.add(String(req.headers.authorization));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res
        .status(401)
        .type('application/problem+json')
        .send({ status: 401, detail: 'invalid or revoked token' });
      return;
    }
    const reply = (r: { status: number; body: unknown }): void => {
      res
        .status(r.status)
        .type(r.status < 300 ? 'application/json' : 'application/problem+json')
        .send(r.body);
    };
    if (req.path === '/v1/deployables') return reply(fake.deployables);
    if (req.path === `/v1/deployables/${SHOP_ID}`) {
      if (fake.deployables.status !== 200) return reply(fake.deployables);
      const [item] = (fake.deployables.body as { items: unknown[] }).items;
      return reply({ status: 200, body: item });
    }
    if (req.path === '/v1/events') {
      // The history: a DPE decision about the deployable (its timeline), one older event otherwise.
      const items =
        req.query.subject === SHOP_ID
          ? [
              {
                specversion: '1.0',
                id: 'ev-d1',
                source: '/dpe',
                type: 'nephele.dpe.decision',
                subject: SHOP_ID,
                time: '2026-01-02T03:04:00Z',
                data: { explanation: 'restart web1/httpd: it failed' },
              },
            ]
          : [
              {
                specversion: '1.0',
                id: 'ev-0',
                source: '/t',
                type: 'nephele.test.earlier',
                subject: 'shop',
                time: '2026-01-02T03:00:00Z',
              },
            ];
      return reply({ status: 200, body: { items, nextCursor: null } });
    }
    if (req.path === '/v1/groups') return reply(fake.groups);
    const m = /^\/v1\/groups\/([^/]+)\/state$/.exec(req.path);
    if (m) return reply({ status: 200, body: fake.groupStates[m[1]!] });
    if (req.path === '/v1/events/stream') {
      const resume = req.headers['last-event-id'] as string | undefined;
      fake.streamResumes.push(resume);
      res.status(200).type('text/event-stream').flushHeaders();
      if (!resume) {
        // One event, then the connection drops: the page must come back with Last-Event-ID.
        res.write('retry: 100\n\n');
        res.write(sseEvent('1', 'nephele.test.first'));
        setTimeout(() => res.end(), 50);
      } else {
        res.write(sseEvent('1', 'nephele.test.first')); // a replay: shown once only
        res.write(sseEvent('2', 'nephele.test.second'));
      }
      return;
    }
    res.status(404).send({ status: 404, detail: 'no such fake route' });
  }

  const visible = (selector: string, timeout = 5000) =>
    page.locator(selector).first().waitFor({ state: 'visible', timeout });
  const withText = (selector: string, text: string | RegExp, timeout = 5000) =>
    page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });
  /** Waits until `check` holds (the page polls the API every 2.5 s). */
  async function until(what: string, check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
    const end = Date.now() + timeout;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const nav = (name: string) => page.locator('#nav').getByRole('link', { name, exact: true }).click();

  beforeAll(async () => {
    @Module({
      imports: [
        CoreModule.forRoot({
          service: 'console-test',
          logLevel: 'warn',
          remoteTokens: false,
          bootstrapToken: TOKEN,
        }),
        ConsoleModule,
      ],
    })
    class TestAppModule {}
    app = await createHttpApp(TestAppModule, { title: 'console test' });
    app.use(fakeApi);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    base = base.replace('[::1]', '127.0.0.1');
    profileDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-ui-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await app?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('serves the page and its files without a token, with a strict CSP', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${base}/console/console.js`)).headers.get('content-type')).toMatch(
      /^text\/javascript/,
    );
    expect(await (await fetch(`${base}/console/config.json`)).json()).toEqual({ apiUrl: '' });
    const missing = await fetch(`${base}/console/nothing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('shows assemblies and services with their states, the groups note and the live events', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Connect' }).click();

    // The list: the deployable with its state and reason.
    const listed = '#view tr[data-name="shop"]';
    await visible(`${listed} .badge[data-state="degraded"]`);
    await withText(`${listed} .reason`, 'web1/httpd failed');
    await withText(listed, '1/2 · 1/2');

    // Its detail page: assemblies and services with their states, and the DPE's decisions.
    await page.locator(listed).getByRole('link', { name: 'shop' }).click();
    await visible('#view .page-head .badge[data-state="degraded"]');
    expect(await page.locator('#page-title').textContent()).toBe('shop');
    await withText('#deployable-reason', 'web1/httpd failed');
    const db1 = '#view article[data-assembly="db1"]';
    const web1 = '#view article[data-assembly="web1"]';
    await visible(`${db1} h3 .badge[data-state="online"]`);
    await withText(db1, '10.0.0.5');
    await visible(`${db1} tr[data-service="store"] .badge[data-state="running"]`);
    await visible(`${web1} h3 .badge[data-state="failed"]`);
    await visible(`${web1} tr[data-service="httpd"] .badge[data-state="failed"]`);
    await withText('.timeline li[data-type="nephele.dpe.decision"] .why', 'restart web1/httpd: it failed');

    await nav('Groups');
    await withText('#view .note', 'Autoscaling is not available');

    // The live tail: the stream dropped after event 1; the page resumed after it and shows each
    // event once, newest first, above the history.
    await nav('Events');
    await visible('#event-list li[data-type="nephele.test.earlier"]');
    await page.getByRole('button', { name: 'Start live tail' }).click();
    await visible('#event-list li[data-type="nephele.test.second"]');
    await withText('#stream-state', 'live');
    expect(fake.streamResumes.slice(0, 2)).toEqual([undefined, '1']);
    expect(
      await page.locator('#event-list li').evaluateAll((els) => els.map((e) => e.getAttribute('data-type'))),
    ).toEqual(['nephele.test.second', 'nephele.test.first', 'nephele.test.earlier']);
    expect([...fake.authorizations]).toEqual([`Bearer ${TOKEN}`]);
  });

  it('follows changes: a deployable turning running, groups with desired and active', async () => {
    await nav('Deployables');
    await page.locator('#view tr[data-name="shop"]').getByRole('link', { name: 'shop' }).click();
    await visible('#view .page-head .badge[data-state="degraded"]');
    fake.deployables.body = { items: [deployable('running')], nextCursor: null };
    await visible('#view .page-head .badge[data-state="running"]', 10_000);
    await visible(
      '#view article[data-assembly="web1"] tr[data-service="httpd"] .badge[data-state="running"]',
    );
    await withText('#deployable-reason', '2 services running on 2 assemblies');

    // Groups appear behind the API while the page is open; their capacities follow the state.
    await nav('Groups');
    await withText('#view .note', 'Autoscaling is not available');
    fake.groupStates['g-1'] = { status: 'ACTIVE', desiredCapacity: 3, activeCapacity: 2, pendingCapacity: 1 };
    fake.groups = {
      status: 200,
      body: {
        items: [
          {
            id: 'g-1',
            config: { name: 'web-tier', minEntities: 1, maxEntities: 5 },
            state: { desiredCapacity: 3 },
          },
        ],
        nextCursor: null,
      },
    };
    const row = '#view tr[data-name="web-tier"]';
    await visible(`${row} .badge[data-state="ACTIVE"]`, 10_000);
    expect(await page.locator(`${row} td.num`).allTextContents()).toEqual(['3', '2', '1']);
    await withText(row, '1..5');
    expect(await page.locator('#view .note').count()).toBe(0);

    fake.groupStates['g-1'] = { status: 'ACTIVE', desiredCapacity: 4, activeCapacity: 4, pendingCapacity: 0 };
    await until(
      'the new capacities',
      async () => ['4', '4', '0'].join() === (await page.locator(`${row} td.num`).allTextContents()).join(),
    );
  });

  it('shows problem details readably, and a rejected token as such', async () => {
    fake.deployables = {
      status: 400,
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'no project',
        errors: [{ field: 'project', message: 'an admin token must say which project' }],
      },
    };
    await nav('Deployables');
    await withText('#view .problem', 'Bad Request: no project (HTTP 400)');
    await withText('#view .problem li', 'project: an admin token must say which project');

    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await withText('#connection', 'token rejected');
    await withText('#view .problem', 'token rejected');
    expect(await page.locator('#view tr[data-name="shop"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
