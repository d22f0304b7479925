import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { buildApps, freePort, ServiceProcess, startSlowly, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const TOKEN = 'console-e2e-admin-token-6f1d0c2b9a8e4f7d0123456789abcdef';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The README's screenshots: made here so they show the console as it is. */
const IMAGES = path.join(WORKSPACE_ROOT, 'docs/images');
const WIDE = { width: 1280, height: 860 };
const NARROW = { width: 360, height: 780 };

/** The console at `/` of the all-in-one, driven by headless Chromium like a user would. */
describe('console on the all-in-one (E2E, headless Chromium)', () => {
  const suffix = randomUUID().slice(0, 6);
  const name = `web-${suffix}`;
  let dataDir: string;
  let profileDir: string;
  let shotsDir: string;
  let nephele: ServiceProcess;
  let context: BrowserContext;
  let page: Page;
  let project: string;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const consoleLines: string[] = [];

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(`${nephele.url}${p}`, {
      ...init,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
    const t = await res.text();
    let body: any = t;
    try {
      body = t ? JSON.parse(t) : undefined;
    } catch {
      /* text */
    }
    return { status: res.status, body };
  };

  /** Runs a step; on failure saves a screenshot (and the server's last words) and says where. */
  async function step(label: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const file = path.join(shotsDir, `${label.replace(/\W+/g, '-')}.png`);
      await page?.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(
        `console E2E step "${label}" failed; screenshot: ${file}\n--- nephele output (tail) ---\n${nephele?.output.slice(-3000)}`,
      );
      throw e;
    }
  }

  const visible = (selector: string, timeout = 15_000) =>
    page.locator(selector).first().waitFor({ state: 'visible', timeout });
  const withText = (selector: string, text: string | RegExp, timeout = 15_000) =>
    page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });
  const go = async (hash: string) => {
    await page.goto(`${nephele.url}/#${hash}`);
    await visible('#page-title');
  };
  /** Clicks an action button, then Confirm in the dialog. */
  const confirmed = async (button: string) => {
    await page.getByRole('button', { name: button, exact: true }).first().click();
    await visible('dialog[open]');
    await page.locator('#confirm-ok').click();
    await page
      .locator('dialog[open]')
      .waitFor({ state: 'detached', timeout: 5_000 })
      .catch(() => undefined);
  };
  const until = (what: string, probe: () => Promise<boolean>, timeoutMs = 30_000) =>
    waitFor(async () => ((await probe()) ? true : undefined), { timeoutMs, what });
  /** A small PNG of the viewport for the README. */
  const shot = async (file: string, size = WIDE) => {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(IMAGES, file) });
  };

  beforeAll(async () => {
    buildApps('nephele', 'agent', 'console');
    dataDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-data-'));
    profileDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-chromium-'));
    shotsDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-shots-'));
    mkdirSync(IMAGES, { recursive: true });
    nephele = await startSlowly('nephele', {
      PORT: String(await freePort()),
      NEPHELE_EDGE_PORT: String(await freePort()),
      NEPHELE_DATA_DIR: dataDir,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    await waitFor(() => nephele.output.includes('admin token'), { timeoutMs: 60_000, what: 'the seed' });
    project = (await api('/v1/projects')).body.items.find((p: any) => p.name === 'default').id;
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: WIDE,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      consoleLines.push(m.text());
      if (m.type() === 'error' && !/status of (4\d\d)/.test(m.text())) consoleErrors.push(m.text());
    });
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await nephele?.kill('SIGTERM');
    for (const d of [dataDir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
    // Screenshots are kept only when a step failed.
    if (shotsDir && !readdirSync(shotsDir).length) rmSync(shotsDir, { recursive: true, force: true });
  });

  it('says "token rejected" for a wrong token, then connects with the right one', async () => {
    await step('load', async () => {
      const res = await page.goto(`${nephele.url}/`);
      expect(res?.status()).toBe(200);
      await visible('#token');
    });
    await step('wrong token', async () => {
      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Connect' }).click();
      await withText('#connection', 'token rejected');
      await withText('#view .problem', 'token rejected');
    });
    await step('right token', async () => {
      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Connect' }).click();
      await withText('#connection', 'Connected');
      await withText('#page-title', 'Deployables');
    });
  });

  it('applies a deployable through the editor, with field errors at their line, then stops, starts and destroys it', async () => {
    await step('field errors', async () => {
      await go('/apply');
      const bad = `name: ${name}\nassemblies:\n  - name: A_1\n    image: debian-12\n    hardwareProfile: small\n`;
      await page.locator('#document').fill(bad);
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page.locator('#confirm-ok').click();
      await visible('#document-errors li[data-field]');
      const err = page.locator('#document-errors li[data-field^="assemblies[0].name"]');
      expect(await err.getAttribute('data-line')).toBe('3');
      expect(await page.locator('#document').getAttribute('aria-invalid')).toBe('true');
      expect((await api(`/v1/deployables/${name}`)).status).toBe(404);
      await shot('console-apply-errors.png');
    });
    await step('apply', async () => {
      const good = [
        `name: ${name}`,
        'assemblies:',
        '  - name: a1',
        '    image: debian-12',
        '    hardwareProfile: small',
        '    services:',
        '      - name: sleeper',
        '        class: process',
        '        command: ["sleep", "1000"]',
        '',
      ].join('\n');
      await page.locator('#document').fill(good);
      await page.getByRole('button', { name: 'Apply', exact: true }).click();
      await page.locator('#confirm-ok').click();
      await withText('#page-title', name);
      const d = (await api(`/v1/deployables/${name}`)).body;
      expect(d).toMatchObject({ name, version: 1, desired: 'started' });
    });
    await step('status, conditions and a timeline of decisions', async () => {
      // Whatever state it reaches on this machine, the page says what the API says.
      await withText(
        '.timeline li[data-type="nephele.dpe.decision"] .why',
        /DPE started \(epoch \d+, config v1\)/,
        60_000,
      );
      await page.reload();
      await visible('.page-head .badge');
      const d = (await api(`/v1/deployables/${name}`)).body;
      expect(['starting', 'running', 'degraded', 'recovering', 'failed']).toContain(
        await page.locator('.page-head .badge').first().getAttribute('data-state'),
      );
      for (const c of d.conditions ?? []) await visible(`tr[data-condition="${c.type}"]`);
      await visible('article[data-assembly="a1"] tr[data-service="sleeper"] .badge');
      await shot('console-deployable.png');
      await shot('console-deployable-narrow.png', NARROW);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        NARROW.width,
      );
      await page.setViewportSize(WIDE);
    });
    await step('edit without a change is "unchanged"', async () => {
      await page.getByRole('link', { name: 'Edit' }).click();
      await withText('#page-title', `Edit ${name}`);
      await page.getByRole('button', { name: 'Apply new version' }).click();
      await withText('#flash', `${name} unchanged (version 1)`);
      expect((await api(`/v1/deployables/${name}`)).body.version).toBe(1);
    });
    await step('stop and start', async () => {
      await confirmed('Stop');
      await until(
        'desired stopped',
        async () => (await api(`/v1/deployables/${name}`)).body.desired === 'stopped',
      );
      await withText('#flash', 'stop requested');
      await confirmed('Start');
      await until(
        'desired started',
        async () => (await api(`/v1/deployables/${name}`)).body.desired === 'started',
      );
    });
    await step('destroy', async () => {
      await confirmed('Destroy');
      await withText('#page-title', 'Deployables');
      await until('deployable gone', async () => (await api(`/v1/deployables/${name}`)).status === 404);
    });
  }, 150_000);

  it("shows a failing deployable's status and reason on its page", async () => {
    const broken = `broken-${suffix}`;
    await step('create broken', async () => {
      const res = await api(`/v1/deployables?project=${project}`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: `name: ${broken}\nassemblies:\n  - name: a1\n    image: debian-12\n    hardwareProfile: small\n    services:\n      - name: gone\n        class: process\n        command: ["/nonexistent/nephele-console-e2e"]\n`,
      });
      expect(res.status).toBe(201);
    });
    await step('reason visible', async () => {
      // The page shows what the API says: the status, and the reason (or conditions) once there is one.
      // Once the API gives a reason (the failure, or why it is still starting), the page shows it.
      const rest = await until(
        'a reason',
        async () => {
          const d = (await api(`/v1/deployables/${broken}`)).body;
          return !!d.reason || (d.conditions ?? []).some((c: any) => c.reason);
        },
        60_000,
      ).then(async () => (await api(`/v1/deployables/${broken}`)).body);
      await go(`/deployables/${rest.id}`);
      await visible('.page-head .badge');
      const states = ['degraded', 'recovering', 'failed', 'starting'];
      expect(states).toContain(await page.locator('.page-head .badge').first().getAttribute('data-state'));
      // The page refreshes itself: it catches up with the API's reason and conditions.
      await until('the page showing the reason the API gives', async () => {
        const d = (await api(`/v1/deployables/${broken}`)).body;
        const shown = (await page.locator('#view').textContent()) ?? '';
        const reasons = [d.reason, ...(d.conditions ?? []).map((c: any) => c.reason)].filter(Boolean);
        return reasons.length > 0 && reasons.every((r: string) => shown.includes(r));
      });
      await visible('article[data-assembly="a1"] tr[data-service="gone"]');
      await shot('console-failed.png');
      await api(`/v1/deployables/${rest.id}`, { method: 'DELETE' });
    });
  }, 120_000);

  it('operates a group: set desired, execute a policy, webhook shown once, pause, resume, delete', async () => {
    const group = `grp-${suffix}`;
    let id = '';
    await step('create group', async () => {
      const res = await api('/v1/groups', {
        method: 'POST',
        body: JSON.stringify({
          project,
          config: { name: group, minEntities: 0, maxEntities: 4, cooldown: 0 },
          launchConfig: { image: 'debian-12', hardwareProfile: 'small', pool: 'default' },
          policies: [{ name: 'up', type: 'webhook', change: 1, cooldown: 0 }],
        }),
      });
      expect(res.status).toBe(201);
      id = res.body.id;
      await go('/groups');
      await page.getByRole('link', { name: group }).click();
      await withText('#page-title', group);
    });
    await step('set desired', async () => {
      await page.locator('#desired').fill('2');
      await page.locator('#desired-form button[type=submit]').click();
      await page.locator('#confirm-ok').click();
      await until('desired 2', async () => (await api(`/v1/groups/${id}/state`)).body.desiredCapacity === 2);
      await withText('#flash', 'desired 0 → 2');
    });
    await step('execute policy', async () => {
      await confirmed('Execute up');
      await until('desired 3', async () => (await api(`/v1/groups/${id}/state`)).body.desiredCapacity === 3);
    });
    await step('webhook', async () => {
      await confirmed('Add webhook');
      await visible('article[data-policy="up"] code.capability');
      const url = await page.locator('article[data-policy="up"] code.capability').first().textContent();
      expect(url).toMatch(/\/v1\/execute\/1\/[0-9a-f]{64}$/);
      expect((await api(`/v1/groups/${id}/policies`)).body.items[0]).toBeDefined();
      await shot('console-group.png');
      await page.goto(`${nephele.url}/#/groups`);
      await go(`/groups/${id}`);
      await withText('article[data-policy="up"]', 'shown once, at creation');
    });
    await step('pause and resume', async () => {
      await confirmed('Pause');
      await until('paused', async () => (await api(`/v1/groups/${id}/state`)).body.paused === true);
      await visible('.page-head [data-paused="true"]');
      await confirmed('Resume');
      await until('resumed', async () => (await api(`/v1/groups/${id}/state`)).body.paused === false);
    });
    await step('activity and delete', async () => {
      await visible('.timeline li');
      await confirmed('Delete');
      await until('group gone', async () => (await api(`/v1/groups/${id}`)).status === 404, 60_000);
    });
  }, 120_000);

  it('creates a cluster from an appliance and shows its outputs', async () => {
    const cluster = `blog-${suffix}`;
    const port = await freePort();
    await step('create cluster', async () => {
      await go('/appliances');
      await page.getByRole('link', { name: 'hello-web' }).click();
      await withText('#page-title', 'hello-web');
      await page.locator('#cluster-name').fill(cluster);
      await page.locator('#param-port').fill(String(port));
      await page.getByRole('button', { name: 'Create cluster' }).click();
      await page.locator('#confirm-ok').click();
      await withText('#page-title', cluster);
      expect((await api(`/v1/clusters/${cluster}`)).body).toMatchObject({
        name: cluster,
        parameters: { port },
      });
    });
    await step('outputs', async () => {
      await withText('tr[data-output="url"]', `http://127.0.0.1:${port}/`, 60_000);
      await shot('console-cluster.png');
    });
    await step('delete cluster', async () => {
      await confirmed('Delete');
      await until('cluster gone', async () => (await api(`/v1/clusters/${cluster}`)).status === 404, 60_000);
    });
  }, 120_000);

  it('filters the event history, expands an event to its JSON and tails live events', async () => {
    const type = `com.example.console-${suffix}`;
    const post = (id: string, subject: string) =>
      api('/v1/events', {
        method: 'POST',
        body: JSON.stringify({
          specversion: '1.0',
          id,
          source: '/console-e2e',
          type,
          subject,
          data: { explanation: `because ${id}` },
        }),
      });
    await step('history with filters', async () => {
      await post(`h1-${suffix}`, 's1');
      await post(`h2-${suffix}`, 's2');
      await go('/events');
      await page.locator('#ev-type').fill(type);
      await page.locator('#ev-subject').fill('s2');
      await page.getByRole('button', { name: 'Search' }).click();
      // The unfiltered list is replaced by the filtered one.
      await until(
        'only the filtered event',
        async () => (await page.locator('#event-list li').count()) === 1,
        15_000,
      );
      await visible(`#event-list li[data-id="h2-${suffix}"]`);
      await page.locator(`#event-list li[data-id="h2-${suffix}"] summary`).click();
      const json = JSON.parse(
        (await page.locator(`#event-list li[data-id="h2-${suffix}"] pre`).textContent()) ?? '',
      );
      expect(json).toMatchObject({ id: `h2-${suffix}`, type, subject: 's2' });
    });
    await step('live tail', async () => {
      await page.locator('#ev-subject').fill('');
      await page.getByRole('button', { name: 'Search' }).click();
      await visible(`#event-list li[data-id="h1-${suffix}"]`);
      await page.getByRole('button', { name: 'Start live tail' }).click();
      await withText('#stream-state', 'live');
      await post(`live-${suffix}`, 's3');
      await visible(`#event-list li[data-id="live-${suffix}"]`);
      const ids = await page
        .locator('#event-list li')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
      expect(ids[0]).toBe(`live-${suffix}`);
      await withText(`#event-list li[data-id="live-${suffix}"] .why`, `because live-${suffix}`);
      await go('/events');
      await shot('console-events.png');
      await shot('console-events-narrow.png', NARROW);
      expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        NARROW.width,
      );
      await page.setViewportSize(WIDE);
    });
  }, 90_000);

  it('lists every resource, is keyboard reachable, and respects dark mode', async () => {
    await step('navigation', async () => {
      for (const [hash, title, row] of [
        ['/pools', 'Pools', 'default'],
        ['/providers', 'Providers', 'local'],
        ['/accounts', 'Provider accounts', 'local'],
        ['/images', 'Images', 'debian-12'],
        ['/profiles', 'Hardware profiles', 'small'],
        ['/instances', 'Instances', ''],
        ['/clusters', 'Clusters', ''],
        ['/appliances', 'Appliances', 'hello-web'],
      ] as const) {
        await go(hash);
        await withText('#page-title', title);
        if (row) await withText('#view tbody', row);
      }
      // No secret is ever on the page: accounts show whether credentials are set, never them.
      await go('/accounts');
      expect(await page.locator('#view').textContent()).not.toMatch(/password|secret/i);
    });
    await step('keyboard', async () => {
      await go('/deployables');
      await page.locator('#forget').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      expect(await page.evaluate<string | undefined>('document.activeElement?.textContent')).toBe('Groups');
      await page.keyboard.press('Enter');
      await withText('#page-title', 'Groups');
    });
    await step('dark mode', async () => {
      await page.emulateMedia({ colorScheme: 'dark' });
      await go('/appliances');
      const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      expect(bg).toBe('rgb(15, 18, 23)');
      await shot('console-dark.png');
      await page.emulateMedia({ colorScheme: 'light' });
    });
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(consoleLines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });

  it('runs standalone (main.ts) with the page pointed at NEPHELE_API_URL', async () => {
    const standalone = await startSlowly('console', {
      PORT: String(await freePort()),
      NEPHELE_API_URL: `${nephele.url}/`,
      LOG_LEVEL: 'warn',
    });
    try {
      const res = await fetch(`${standalone.url}/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${nephele.url}`);
      expect(await (await fetch(`${standalone.url}/console/config.json`)).json()).toEqual({
        apiUrl: nephele.url,
      });
      expect((await fetch(`${standalone.url}/readyz`)).status).toBe(200);
    } finally {
      await standalone.kill('SIGTERM');
    }
  });
});
