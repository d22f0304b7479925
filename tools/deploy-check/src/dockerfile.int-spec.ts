import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BROKER_USERS, NEPHELE_SERVICES, rabbitPasswordVar } from './deploy.constants';
import { WORKSPACE_ROOT, bundlePackages, composeConfig, inDockerContext } from './render.util';

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(WORKSPACE_ROOT, file), 'utf8');
const hasMain = (app: string) => existsSync(path.join(WORKSPACE_ROOT, 'apps', app, 'src/main.ts'));

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const dockerignore = read('.dockerignore');
  /** Apps the Dockerfile builds next to APP (bundles that APP starts by path). */
  const companions = [...dockerfile.matchAll(/companions="([^"]*)"/g)]
    .flatMap((m) => m[1].split(/\s+/))
    .filter(Boolean);

  it('builds every app compose references, and each is an app with a main.ts', async () => {
    const model = await composeConfig({
      NEPHELE_MASTER_KEY: 'k',
      NEPHELE_BOOTSTRAP_TOKEN: 't',
      ...Object.fromEntries(BROKER_USERS.map((u) => [rabbitPasswordVar(u), `pw-${u}`])),
    });
    const built = Object.values(model.services).flatMap((s) => (s.build ? [s.build.args?.APP ?? ''] : []));
    expect(built.sort()).toEqual(NEPHELE_SERVICES.map((s) => s.app).sort());
    for (const app of [...built, ...companions])
      expect({ app, main: hasMain(app) }).toEqual({ app, main: true });
    expect(companions).toEqual(expect.arrayContaining(['dpe-worker', 'agent']));
    // the image runs the app named by APP
    expect(dockerfile).toMatch(/^ARG APP$/m);
    expect(dockerfile).toMatch(/NEPHELE_MAIN=dist\/apps\/\$\{APP\}\/main\.js/);
    expect(dockerfile).toMatch(/^CMD \[.*node --enable-source-maps \\"\$NEPHELE_MAIN\\".*\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
  });

  it('sends the build what it needs and leaves out the rest', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.base.json',
      'tools/build.mjs',
      'deploy/docker/healthcheck.js',
      'libs/bus/src/index.ts',
      ...readdirSync(path.join(WORKSPACE_ROOT, 'apps'))
        .filter(hasMain)
        .map((a) => `apps/${a}/src/main.ts`),
      ...readdirSync(path.join(WORKSPACE_ROOT, 'apps')).map((a) => `apps/${a}/package.json`),
    ];
    for (const f of needed) expect({ f, sent: inDockerContext(dockerignore, f) }).toEqual({ f, sent: true });
    for (const f of [
      'node_modules/pg/package.json',
      'apps/x/node_modules/y',
      'dist/apps/scaler/main.js',
      '.git/HEAD',
      '.env',
      'deploy/base/kustomization.yaml',
      'libs/bus/src/bus.spec.ts',
      'apps/scaler/test/a.e2e-spec.ts',
    ]) {
      expect({ f, sent: inDockerContext(dockerignore, f) }).toEqual({ f, sent: false });
    }
    for (const copied of dockerfile.matchAll(/^COPY (?!--from)(\S+) /gm)) {
      if (copied[1] !== '.') expect(existsSync(path.join(WORKSPACE_ROOT, copied[1]))).toBe(true);
    }
  });

  it('ships every package the bundles load as a production dependency (the image prunes devDependencies)', async () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };
    const prod = new Set(Object.keys(pkg.dependencies ?? {}));
    const apps = [...new Set([...NEPHELE_SERVICES.map((s) => s.app), ...companions])];
    const missing: string[] = [];
    for (const app of apps) {
      if (!existsSync(path.join(WORKSPACE_ROOT, 'dist/apps', app, 'main.js'))) {
        await run('node', ['tools/build.mjs', app], { cwd: WORKSPACE_ROOT });
      }
      for (const name of bundlePackages(app)) if (!prod.has(name)) missing.push(`${app} needs ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('knows the default port of every app it builds, for its health check', () => {
    const script = read('deploy/docker/healthcheck.js');
    for (const app of [...NEPHELE_SERVICES.map((s) => s.app), ...companions, 'nephele']) {
      const envFile = path.join(WORKSPACE_ROOT, 'apps', app, 'src/config/env.ts');
      const env = existsSync(envFile) ? readFileSync(envFile, 'utf8') : '';
      const port = /\bPORT(?::\s*number)?\s*=\s*(\d+)/.exec(env)?.[1] ?? '0';
      // no HTTP (agent) or a random port (dpe-worker without PORT): the check cannot ask, it passes
      const listed =
        port === '0'
          ? !new RegExp(`'?${app}'?:`).test(script)
          : new RegExp(`'?${app}'?: ${port},`).test(script);
      expect({ app, port, listed }).toEqual({ app, port, listed: true });
    }
  });
});
