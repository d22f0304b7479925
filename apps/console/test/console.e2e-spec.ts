import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { buildApps, freePort, ServiceProcess, waitFor } from '@nephele/testing';

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
const STATUSES = ['starting', 'running', 'degraded', 'recovering', 'failed', 'stopped'];

/** The console at `/` of the all-in-one, driven by headless Chromium like a user would. */
describe('console on the all-in-one (E2E, headless Chromium)', () => {
  const name = `console-e2e-${randomUUID().slice(0, 8)}`;
  let dataDir: string;
  let profileDir: string;
  let shotsDir: string;
  let nephele: ServiceProcess;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleLines: string[] = [];

  const api = (p: string, init: RequestInit = {}) =>
    fetch(`${nephele.url}${p}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) },
    });

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

  const visible = (selector: string, timeout = 10_000) =>
    page.locator(selector).first().waitFor({ state: 'visible', timeout });
  const withText = (selector: string, text: string | RegExp, timeout = 10_000) =>
    page.locator(selector, { hasText: text }).first().waitFor({ state: 'visible', timeout });

  beforeAll(async () => {
    buildApps('nephele', 'agent', 'console');
    dataDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-data-'));
    profileDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-chromium-'));
    shotsDir = mkdtempSync(path.join(tmpdir(), 'nephele-console-shots-'));
    const [port, edgePort] = [await freePort(), await freePort()];
    nephele = await ServiceProcess.start('nephele', {
      PORT: String(port),
      NEPHELE_EDGE_PORT: String(edgePort),
      NEPHELE_DATA_DIR: dataDir,
      NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    // The default project, pool, image and profile are seeded after the port opens; the banner
    // comes last.
    await waitFor(() => nephele.output.includes('admin token'), { timeoutMs: 20_000, what: 'the seed' });
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => consoleLines.push(m.text()));
  });

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
      expect(await page.title()).toBe('Nephele console');
    });
    await step('wrong token', async () => {
      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Connect' }).click();
      await withText('#connection', 'token rejected');
      await withText('#deployables .problem', 'token rejected');
    });
    await step('right token', async () => {
      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Connect' }).click();
      await withText('#connection', 'Connected');
      await withText('#events .stream-state', 'live');
      // The scaler is part of the all-in-one: an empty list, not the "not available" note.
      await withText('#groups .note', 'No groups yet.');
      expect(await page.locator('#deployables .problem').isHidden()).toBe(true);
    });
  });

  it('shows a new deployable with its status and a live event as it happens', async () => {
    await step('create deployable', async () => {
      const yaml = [
        'apiVersion: nephele/v1',
        'kind: Deployable',
        `name: ${name}`,
        'pool: default',
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
      // An admin token names the project it acts in.
      const projects = (await (await api('/v1/projects')).json()) as any;
      const project = projects.items.find((p: any) => p.name === 'default').id as string;
      const res = await api(`/v1/deployables?project=${project}`, {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body: yaml,
      });
      expect({ status: res.status, body: await res.text() }).toMatchObject({ status: 201 });
    });
    await step('deployable appears', async () => {
      const badge = `#deployables article[data-name="${name}"] header .badge`;
      await visible(badge);
      expect(STATUSES).toContain(await page.locator(badge).getAttribute('data-state'));
      expect(await page.getByRole('article', { name }).isVisible()).toBe(true);
    });
    await step('live events, newest first', async () => {
      const post = async (id: string) => {
        const res = await api('/v1/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            specversion: '1.0',
            id,
            source: '/test',
            type: 'nephele.test.console',
            data: {},
          }),
        });
        expect(res.status).toBeLessThan(300);
        await visible(`#events li[data-id="${id}"]`);
        await withText(`#events li[data-id="${id}"] .type`, 'nephele.test.console');
      };
      const [first, second] = [randomUUID(), randomUUID()];
      await post(first);
      await post(second);
      // The deployable's own events stream in too, so compare the two posted ones with each other.
      const ids = await page
        .locator('#events li')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
      expect(ids.indexOf(second)).toBeGreaterThanOrEqual(0);
      expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
    });
    await step('token kept for the tab', async () => {
      await page.reload();
      await withText('#connection', 'Connected');
      await visible(`#deployables article[data-name="${name}"]`);
    });
    expect(pageErrors).toEqual([]);
    expect(consoleLines.filter((l) => l.includes(TOKEN))).toEqual([]);
  });

  it('runs standalone (main.ts) with the page pointed at NEPHELE_API_URL', async () => {
    const standalone = await ServiceProcess.start('console', {
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

  it('shows the deployable turn running', async () => {
    await step('running', async () => {
      await visible(`#deployables article[data-name="${name}"] header .badge[data-state="running"]`, 30_000);
      await visible(
        `#deployables article[data-name="${name}"] tr[data-assembly="a1"] li[data-service$="sleeper"] .badge[data-state="running"]`,
      );
    });
  });
});
