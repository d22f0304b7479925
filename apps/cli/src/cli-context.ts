import { Command } from 'commander';
import { NepheleClient } from '@nephele/client';
import {
  CliEnv,
  CliSettings,
  configPathOf,
  GlobalFlags,
  isConfigTooOpen,
  readStoredConfig,
  resolveSettings,
} from './config/cli-config';
import { CliError, notFound, UsageError } from './errors.util';
import { isUuid, queryString } from './input/flags.util';
import { stringify as stringifyYaml } from 'yaml';
import { renderJsonPath } from './output/jsonpath.util';
import { Column, renderKeyValues, renderTable } from './output/table.util';

/** Where the CLI writes; tests and main give the real streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Standard input as text (for `-f -` and `login --token-stdin`). */
  stdin(): string;
  now(): Date;
}

export interface Named {
  id: string;
  name?: string;
}

/**
 * What every command needs: the resolved settings (flags > env > config file), an API client, the
 * output format, and name → id resolution. Built lazily from the command that runs.
 */
export class CliContext {
  private settingsCache?: CliSettings;
  private projectCache?: string;
  private warnedOpenConfig = false;

  constructor(
    readonly io: CliIo,
    readonly env: CliEnv,
    readonly command: Command,
  ) {}

  get settings(): CliSettings {
    if (!this.settingsCache) {
      const flags = this.command.optsWithGlobals<GlobalFlags>();
      const file = configPathOf(this.env);
      const stored = readStoredConfig(file);
      this.settingsCache = resolveSettings(flags, this.env, stored, file);
      if (this.settingsCache.tokenSource === 'config' && !this.warnedOpenConfig && isConfigTooOpen(file)) {
        this.warnedOpenConfig = true;
        this.io.err(`warning: ${file} holds a token and is readable by others: chmod 600 it\n`);
      }
    }
    return this.settingsCache;
  }

  /** A structured output was asked for (`-o json|yaml` or `--jsonpath`): print data, not tables. */
  get json(): boolean {
    const s = this.settings;
    return s.output === 'json' || s.output === 'yaml' || s.jsonpath !== undefined;
  }

  /** `-o wide`: every column, cells never cut. */
  get wide(): boolean {
    return this.settings.output === 'wide';
  }

  client(): NepheleClient {
    const s = this.settings;
    return new NepheleClient({ url: s.url, token: s.token });
  }

  /** Prints a value in the structured form asked for: JSON (pretty), YAML, or the `--jsonpath` values. */
  printJson(v: unknown): void {
    const s = this.settings;
    if (s.jsonpath !== undefined) {
      const text = renderJsonPath(v, s.jsonpath);
      if (text) this.io.out(`${text}
`);
      return;
    }
    if (s.output === 'yaml') return this.io.out(stringifyYaml(v ?? null, { lineWidth: 0 }));
    this.io.out(`${JSON.stringify(v, null, 2)}
`);
  }

  /** Prints rows as a table (`-o wide`: with the wide columns, uncut), or as structured data. */
  printList<T>(rows: readonly T[], columns: readonly Column<T>[], wideColumns: readonly Column<T>[] = []): void {
    if (this.json) return this.printJson(rows);
    this.io.out(`${this.table(rows, columns, wideColumns)}
`);
  }

  /** A table as `-o table|wide` wants it. */
  table<T>(rows: readonly T[], columns: readonly Column<T>[], wideColumns: readonly Column<T>[] = []): string {
    if (!this.wide) return renderTable(rows, columns);
    return renderTable(rows, [...columns, ...wideColumns].map((c) => ({ ...c, max: Number.MAX_SAFE_INTEGER })));
  }

  /** Prints one object as `key: value` lines, or as structured data. */
  printObject(v: Record<string, unknown>): void {
    if (this.json) return this.printJson(v);
    this.io.out(`${renderKeyValues(v)}\n`);
  }

  /** A confirmation (`pool web deleted`) in table mode; `json` is printed instead in structured modes. */
  printDone(message: string, json: unknown): void {
    if (this.json) this.printJson(json);
    else this.io.out(`${message}\n`);
  }

  /**
   * The project id of the `--project` setting (a name or an id); with `required`, when no project
   * is set: the only project the token sees, else the one named `default`, else a usage error.
   */
  async projectId(required: true): Promise<string>;
  async projectId(required: boolean): Promise<string | undefined>;
  async projectId(required: boolean): Promise<string | undefined> {
    if (this.projectCache) return this.projectCache;
    const ref = this.settings.project;
    if (ref) {
      this.projectCache = await this.resolveId({ path: '/v1/projects', label: 'project', global: true }, ref);
      return this.projectCache;
    }
    if (!required) return undefined;
    const projects = await this.client().all<Named>('/v1/projects');
    const pick = projects.length === 1 ? projects[0] : projects.find((p) => p.name === 'default');
    if (!pick) {
      throw new UsageError(
        projects.length
          ? `several projects are visible (${projects.map((p) => p.name).join(', ')}): choose one with --project <name|id> or NEPHELE_PROJECT`
          : 'no project is visible to this token: create one with `nephele project create --name <name>`',
      );
    }
    this.projectCache = pick.id;
    return pick.id;
  }

  /**
   * The id of a resource named by id or by name (`?name=` on its list). Project-owned lists are
   * narrowed to `--project` when it is set. Zero matches: "not found"; several: use the id.
   */
  async resolveId(target: { path: string; label: string; global?: boolean }, ref: string): Promise<string> {
    if (isUuid(ref)) return ref;
    const project = target.global ? undefined : await this.projectId(false);
    const rows = await this.client().all<Named>(`${target.path}${queryString({ name: ref, project })}`);
    return pickByName(rows, ref, target.label).id;
  }
}

/** The one row named `ref`; CliError when there is none or several. */
export function pickByName<T extends Named>(
  rows: readonly T[],
  ref: string,
  label: string,
  nameOf = (r: T) => r.name,
): T {
  const hits = rows.filter((r) => nameOf(r) === ref || r.id === ref);
  if (!hits.length) throw notFound(label, ref);
  if (hits.length > 1)
    throw new CliError(`several ${label}s are named "${ref}": use the id, or narrow with --project`, 1, [
      ...hits.map((h) => `id: ${h.id}`),
    ]);
  return hits[0]!;
}
