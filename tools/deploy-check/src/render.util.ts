import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, parse } from 'yaml';
import { KubeObject } from './k8s-schema.util';

const run = promisify(execFile);

/** The workspace root (this file is libs/deploy-check/src/render.util.ts). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../..');

/** `kubectl kustomize <dir>`, parsed: every object the overlay renders. */
export async function renderKustomize(dir: string): Promise<KubeObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { cwd: WORKSPACE_ROOT, maxBuffer: 16 << 20 });
  return parseAllDocuments(stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`kubectl kustomize ${dir}: ${d.errors[0].message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

/** Runs `docker-compose -f docker-compose.yml <args>` in the workspace root. */
export async function dockerCompose(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('docker-compose', ['-f', 'docker-compose.yml', ...args], {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === 'number' ? err.code : 1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    };
  }
}

/** The resolved compose model (`docker-compose config`). */
export async function composeConfig(env: Record<string, string | undefined>): Promise<ComposeModel> {
  const r = await dockerCompose(['config'], env);
  if (r.code !== 0) throw new Error(`docker-compose config failed: ${r.stderr}`);
  return parse(r.stdout) as ComposeModel;
}

export interface ComposeService {
  image?: string;
  entrypoint?: string[] | string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  ports?: { published: number | string; target: number }[];
  volumes?: (string | { source?: string; target: string; type?: string })[];
}
export interface ComposeModel {
  services: Record<string, ComposeService>;
}

/**
 * Whether a .dockerignore leaves `file` (workspace-relative) in the build context. Docker's rules:
 * patterns match the path or any parent directory, the last matching pattern wins, `!` re-includes.
 */
export function inDockerContext(dockerignore: string, file: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({
      include: l.startsWith('!'),
      re: globToRegExp(l.replace(/^!/, '').replace(/^\/+|\/+$/g, '')),
    }));
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((c) => rule.re.test(c))) included = rule.include;
  }
  return included;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** npm packages a built bundle (dist/apps/<app>/main.js) loads with require() or import(). */
export function bundlePackages(app: string): string[] {
  const file = path.join(WORKSPACE_ROOT, 'dist/apps', app, 'main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: build it first (node tools/build.mjs ${app})`);
  const source = readFileSync(file, 'utf8');
  const builtins = new Set(builtinModules);
  const names = new Set<string>();
  for (const m of source.matchAll(/\b(?:require|import)\(\s*(["'])([^"'\s]+)\1\s*\)/g)) {
    const id = m[2];
    if (id.startsWith('.') || id.startsWith('/') || id.startsWith('node:')) continue;
    const name = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0];
    if (!builtins.has(name)) names.add(name);
  }
  return [...names].sort();
}
