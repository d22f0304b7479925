import { PermanentDriverError } from './driver.errors';

/**
 * A tiny reader for driver config objects (they arrive as JSON from the config-api): each
 * getter records a problem instead of throwing, and `done()` throws one `permanent` error
 * listing them all.
 */
export class ConfigReader {
  private readonly problems: string[] = [];
  private readonly obj: Record<string, unknown>;

  constructor(
    private readonly what: string,
    value: unknown,
  ) {
    if (value == null) this.obj = {};
    else if (typeof value === 'object' && !Array.isArray(value)) this.obj = value as Record<string, unknown>;
    else {
      this.obj = {};
      this.problems.push('must be an object');
    }
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  string(key: string): string | undefined;
  string(key: string, fallback: string): string;
  string(key: string, fallback?: string): string | undefined {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') {
      this.problems.push(`${key} must be a non-empty string`);
      return fallback;
    }
    return v;
  }

  requiredString(key: string): string {
    if (this.obj[key] === undefined) {
      this.problems.push(`${key} is required`);
      return '';
    }
    return this.string(key) ?? '';
  }

  number(
    key: string,
    fallback: number,
    opts: { min?: number; max?: number; integer?: boolean } = {},
  ): number {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (opts.min === undefined || v >= opts.min) &&
      (opts.max === undefined || v <= opts.max) &&
      (!opts.integer || Number.isInteger(v));
    if (!ok) {
      const range = [
        opts.min !== undefined ? `>= ${opts.min}` : '',
        opts.max !== undefined ? `<= ${opts.max}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      this.problems.push(
        `${key} must be a${opts.integer ? 'n integer' : ' number'}${range ? ` ${range}` : ''}`,
      );
      return fallback;
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.problems.push(`${key} must be a boolean`);
      return fallback;
    }
    return v;
  }

  stringArray(key: string): string[] | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
      this.problems.push(`${key} must be an array of strings`);
      return undefined;
    }
    return v as string[];
  }

  stringRecord(key: string): Record<string, string> | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (
      typeof v !== 'object' ||
      v === null ||
      Array.isArray(v) ||
      Object.values(v).some((s) => typeof s !== 'string')
    ) {
      this.problems.push(`${key} must be an object of strings`);
      return undefined;
    }
    return v as Record<string, string>;
  }

  /** A nested object read with its own reader; its problems are prefixed with `key.`. */
  nested<T>(key: string, read: (r: ConfigReader) => T): T | undefined {
    if (this.obj[key] === undefined) return undefined;
    const r = new ConfigReader(key, this.obj[key]);
    const out = read(r);
    this.problems.push(...r.problems.map((p) => `${key}.${p}`));
    return out;
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  done(): void {
    if (this.problems.length) {
      throw new PermanentDriverError(`invalid ${this.what}: ${this.problems.join('; ')}`, {
        code: 'InvalidConfig',
      });
    }
  }
}
