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

function deployable(status: string) {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    name: 'shop',
    status,
    reason: '2 services running on 2 assemblies',
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
        state: 'failed',
        instanceId: 'aaaaaaaa-0000-4000-8000-000000000002',
        addresses: [],
        services: [{ name: 'web1/httpd', state: 'failed' }],
      },
    ],
  };
}

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
    if (req.path === '/v1/groups') return reply(fake.groups);
    const m = /^\/v1\/groups\/([^/]+)\/state$/.exec(req.path);
    if (m) return reply({ status: 200, body: fake.groupStates[m[1]!] });
    if (req.path === '/v1/events/stream') {
      const resume = req.headers['last-event-id'] as string | undefined;
      fake.streamResumes.push(resume);
      res.status(200).type('text/event-stream').flushHeaders();
      const event = (id: string, type: string) =>
        `id: ${id}\ndata: ${JSON.stringify({ specversion: '1.0', id: `ev-${id}`, source: '/t', type, subject: 'shop', time: '2026-01-02T03:04:05Z' })}\n\n`;
      if (!resume) {
        // One event, then the connection drops: the page must come back with Last-Event-ID.
        res.write('retry: 100\n\n');
        res.write(event('1', 'nephele.test.first'));
        setTimeout(() => res.end(), 50);
      } else {
        res.write(event('1', 'nephele.test.first')); // a replay: shown once only
        res.write(event('2', 'nephele.test.second'));
      }
      return;
    }
    res.status(404).send({ status: 404, detail: 'no such fake route' });
  }

  const visible = (selector: string, timeout = 5000) =>
    page.locator(selector).first().waitFor({ state: 'visible', timeout });
  const withText = (selector: string, text: string | RegExp, timeout = 5000) =>
    page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });

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

    const shop = '#deployables article[data-name="shop"]';
    await visible(`${shop} header .badge[data-state="degraded"]`);
    await visible(`${shop} tr[data-assembly="db1"] td .badge[data-state="online"]`);
    await withText(`${shop} tr[data-assembly="db1"]`, '10.0.0.5');
    await visible(`${shop} li[data-service="db1/store"] .badge[data-state="running"]`);
    await visible(`${shop} li[data-service="web1/httpd"] .badge[data-state="failed"]`);
    await withText('#groups .note', 'Autoscaling is not available');

    // The stream dropped after event 1; the page resumed after it and shows each event once.
    await visible('#events li[data-type="nephele.test.second"]');
    expect(fake.streamResumes.slice(0, 2)).toEqual([undefined, '1']);
    const items = page.locator('#events li');
    expect(await items.count()).toBe(2);
    expect([
      await items.nth(0).getAttribute('data-type'),
      await items.nth(1).getAttribute('data-type'),
    ]).toEqual(['nephele.test.second', 'nephele.test.first']);
    expect([...fake.authorizations]).toEqual([`Bearer ${TOKEN}`]);
  });

  it('follows changes: a deployable turning running, groups with desired and active', async () => {
    fake.deployables.body = { items: [deployable('running')], nextCursor: null };
    fake.groups = {
      status: 200,
      body: {
        items: [{ id: 'g-1', config: { name: 'web-tier' }, state: { desiredCapacity: 3 } }],
        nextCursor: null,
      },
    };
    fake.groupStates['g-1'] = { status: 'ACTIVE', desiredCapacity: 3, activeCapacity: 2, pendingCapacity: 1 };
    await visible('#deployables article[data-name="shop"] header .badge[data-state="running"]');
    const row = '#groups tr[data-name="web-tier"]';
    await visible(`${row} .badge[data-state="ACTIVE"]`);
    expect(await page.locator(`${row} td.num`).allTextContents()).toEqual(['3', '2', '1']);
    expect(await page.locator('#groups .note').isHidden()).toBe(true);
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
    await withText('#deployables .problem', 'Bad Request: no project (HTTP 400)');
    await withText('#deployables .problem li', 'project: an admin token must say which project');

    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await withText('#connection', 'token rejected');
    await withText('#events .stream-state', 'token rejected');
    expect(pageErrors).toEqual([]);
  });
});
