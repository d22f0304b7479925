import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, UsageError } from '../errors.util';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_URL = 'http://localhost:8080';

/** What `nephele login` stores (JSON, mode 600). */
export interface StoredConfig {
  url?: string;
  token?: string;
  project?: string;
}

/** The global flags as commander parsed them. */
export interface GlobalFlags {
  url?: string;
  token?: string;
  project?: string;
  output?: string;
  jsonpath?: string;
}

/** The environment variables the CLI reads (main passes process.env; nothing else reads it). */
export interface CliEnv {
  NEPHELE_URL?: string;
  NEPHELE_TOKEN?: string;
  NEPHELE_PROJECT?: string;
  NEPHELE_CONFIG?: string;
  XDG_CONFIG_HOME?: string;
  HOME?: string;
}

export interface CliSettings {
  url: string;
  token?: string;
  /** Where the token came from (shown in messages; the token itself never is). */
  tokenSource: 'flag' | 'env' | 'config' | 'none';
  project?: string;
  output: OutputFormat;
  /** `--jsonpath`: print only these values of the JSON form. */
  jsonpath?: string;
  configPath: string;
}

/** `$NEPHELE_CONFIG`, else `$XDG_CONFIG_HOME/nephele/config.json`, else `~/.config/nephele/config.json`. */
export function configPathOf(env: CliEnv): string {
  if (env.NEPHELE_CONFIG) return path.resolve(env.NEPHELE_CONFIG);
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'nephele', 'config.json');
}

/** The stored config, `{}` when there is none; a file that is not a JSON object is an error. */
export function readStoredConfig(file: string): StoredConfig {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`the config file ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CliError(`the config file ${file} must hold a JSON object`);
  const o = parsed as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] ? (o[k] as string) : undefined);
  return { url: str('url'), token: str('token'), project: str('project') };
}

/** Whether a config file is readable or writable by others (it holds a token: it should be 600). */
export function isConfigTooOpen(file: string): boolean {
  if (process.platform === 'win32' || !existsSync(file)) return false;
  return (statSync(file).mode & 0o077) !== 0;
}

/** Writes the config file with mode 600 (its directory 700), atomically. */
export function writeStoredConfig(file: string, cfg: StoredConfig): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** A base URL without a trailing slash; anything but http(s) is a usage error. */
export function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`invalid URL "${raw}" (expected e.g. http://localhost:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`invalid URL "${raw}": only http and https are supported`);
  return u.toString().replace(/\/+$/, '');
}

/** Flags win over the environment, which wins over the config file. */
export function resolveSettings(
  flags: GlobalFlags,
  env: CliEnv,
  stored: StoredConfig,
  configPath: string,
): CliSettings {
  const output = flags.output ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output))
    throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')} (got "${output}")`);
  const url = normaliseUrl(flags.url || env.NEPHELE_URL || stored.url || DEFAULT_URL);
  const [token, tokenSource]: [string | undefined, CliSettings['tokenSource']] = flags.token
    ? [flags.token, 'flag']
    : env.NEPHELE_TOKEN
      ? [env.NEPHELE_TOKEN, 'env']
      : stored.token
        ? [stored.token, 'config']
        : [undefined, 'none'];
  return {
    url,
    token,
    tokenSource,
    project: flags.project || env.NEPHELE_PROJECT || stored.project || undefined,
    output: output as OutputFormat,
    jsonpath: flags.jsonpath || undefined,
    configPath,
  };
}
