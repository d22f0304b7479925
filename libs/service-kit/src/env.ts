import { plainToInstance } from 'class-transformer';
import { readFileSync, statSync } from 'node:fs';
import { IsIn, IsOptional, IsString, validateSync } from 'class-validator';

function coerce(raw: string, def: unknown): unknown {
  if (typeof def === 'number') return raw.trim() === '' ? NaN : Number(raw);
  if (typeof def === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    return raw;
  }
  return raw;
}

/**
 * Reads and validates an app's environment once. Every variable is a property of `cls` with its
 * default; numbers and booleans are converted by the type of that default. Fails fast with one line
 * per bad variable; nothing else in an app reads process.env (STYLE.md).
 */
export function loadEnv<T extends object>(cls: new () => T, env: NodeJS.ProcessEnv = process.env): T {
  const defaults = new cls() as Record<string, unknown>;
  const values: Record<string, unknown> = { ...defaults };
  for (const k of Object.keys(defaults)) {
    const v = env[k];
    if (v !== undefined && v !== '') values[k] = coerce(v, defaults[k]);
  }
  const inst = plainToInstance(cls, values);
  const errors = validateSync(inst as object);
  if (errors.length) {
    const lines = errors.map((e) => `  ${e.property}: ${Object.values(e.constraints ?? {}).join(', ')}`);
    throw new Error(
      `invalid environment:\n${lines.join('\n')}\n(${errors.map((e) => `${e.property}=${JSON.stringify(e.value)}`).join(', ')})`,
    );
  }
  return inst;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The variables every service reads (ARCHITECTURE §7); an app's env class extends it. */
export class ServiceEnv {
  /** PostgreSQL; unset → embedded PGlite. */
  @IsOptional() @IsString() DATABASE_URL?: string = undefined;
  /** RabbitMQ; unset → the in-process bus. */
  @IsOptional() @IsString() AMQP_URL?: string = undefined;
  @IsIn(LOG_LEVELS) LOG_LEVEL: string = 'info';
  @IsOptional() @IsString() NEPHELE_BOOTSTRAP_TOKEN?: string = undefined;
}

/** The typed form of ServiceEnv plus the app's port. */
export interface ServiceConfig {
  databaseUrl?: string;
  amqpUrl?: string;
  port: number;
  logLevel: string;
  bootstrapToken?: string;
}

export function serviceConfig(e: ServiceEnv & { PORT: number }): ServiceConfig {
  return {
    databaseUrl: e.DATABASE_URL,
    amqpUrl: e.AMQP_URL,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    bootstrapToken: e.NEPHELE_BOOTSTRAP_TOKEN,
  };
}

/**
 * The master key: `NEPHELE_MASTER_KEY` itself, else the content of the file named by
 * `NEPHELE_MASTER_KEY_FILE` (a mounted secret, kept apart from the data), else undefined. Fails
 * fast when the file cannot be read, or is readable by others than its owner.
 */
export function masterKeyFrom(e: {
  NEPHELE_MASTER_KEY?: string;
  NEPHELE_MASTER_KEY_FILE?: string;
}): string | undefined {
  if (e.NEPHELE_MASTER_KEY) return e.NEPHELE_MASTER_KEY;
  if (!e.NEPHELE_MASTER_KEY_FILE) return undefined;
  try {
    if (process.platform !== 'win32' && (statSync(e.NEPHELE_MASTER_KEY_FILE).mode & 0o077) !== 0) {
      throw new Error('the file is readable by others than its owner (chmod 600 it)');
    }
    const v = readFileSync(e.NEPHELE_MASTER_KEY_FILE, 'utf8').trim();
    if (!v) throw new Error('the file is empty');
    return v;
  } catch (err) {
    throw new Error(
      `invalid environment:\n  NEPHELE_MASTER_KEY_FILE: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
