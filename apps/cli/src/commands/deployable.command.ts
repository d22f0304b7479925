import { isDeepStrictEqual } from 'node:util';
import { Command } from 'commander';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { NepheleApiError } from '@nephele/client';
import { sleep } from '@nephele/util';
import { CliContext } from '../cli-context';
import {
  counts,
  DeployableView,
  elapsedPrefix,
  progressLine,
  reasonOf,
  renderStatus,
  watchVerdict,
} from '../deployables/deployable-view.util';
import { CliError, describeError } from '../errors.util';
import { CONTENT_TYPES, deployableNameOf, DocumentFile, readDocumentFile } from '../input/document.util';
import { parseDurationFlag, queryString } from '../input/flags.util';
import { unifiedDiff } from '../output/diff.util';
import { Column } from '../output/table.util';
import { action, ContextFactory } from './command.util';

const LIST_COLUMNS: Column<DeployableView>[] = [
  { header: 'id', value: (d) => d.id, max: 36 },
  { header: 'name', value: (d) => d.name },
  { header: 'version', value: (d) => d.version },
  { header: 'desired', value: (d) => d.desired },
  { header: 'status', value: (d) => d.status },
  { header: 'assemblies', value: (d) => `${counts(d).assemblies[0]}/${counts(d).assemblies[1]}` },
  { header: 'services', value: (d) => `${counts(d).services[0]}/${counts(d).services[1]}` },
  { header: 'reason', value: (d) => reasonOf(d) },
];

const path = (ref: string) => `/v1/deployables/${encodeURIComponent(ref)}`;

/** The deployable of that name in the `--project` (when set) or visible to the token; undefined if none. */
async function findByName(ctx: CliContext, name: string): Promise<DeployableView | undefined> {
  const project = await ctx.projectId(false);
  if (project) {
    const all = await ctx.client().all<DeployableView>(`/v1/deployables${queryString({ project })}`);
    return all.find((d) => d.name === name);
  }
  try {
    return await ctx.client().get<DeployableView>(path(name));
  } catch (e) {
    if (e instanceof NepheleApiError && e.status === 404) return undefined;
    throw e;
  }
}

/** The stored version a deployable is at: its original text, format and parsed document. */
interface StoredVersion {
  version: number;
  source?: string;
  format?: string;
  document?: unknown;
}

function parsedOf(text: string, format: string | undefined): unknown {
  try {
    if (format === 'json') return JSON.parse(text);
    if (format === 'yaml') return parseYaml(text, { maxAliasCount: 100 }) as unknown;
  } catch {
    /* not comparable */
  }
  return undefined;
}

/**
 * Whether a document says the same as the stored version: the same text, or (JSON/YAML) the same
 * data as the text or the document the server stored. Comments and key order do not count.
 */
export function sameDocument(doc: DocumentFile, stored: StoredVersion): boolean {
  if (stored.source !== undefined && stored.source.trim() === doc.text.trim()) return true;
  const mine = parsedOf(doc.text, doc.format);
  if (mine === undefined) return false;
  if (
    stored.source !== undefined &&
    isDeepStrictEqual(mine, parsedOf(stored.source, stored.format ?? doc.format))
  )
    return true;
  return stored.document !== undefined && isDeepStrictEqual(mine, stored.document);
}

/** The stored text in a form comparable with the file (its YAML when the formats differ). */
function storedText(doc: DocumentFile, stored: StoredVersion): string {
  if (stored.source !== undefined && (stored.format ?? doc.format) === doc.format) return stored.source;
  if (stored.document !== undefined) return stringifyYaml(stored.document, { lineWidth: 0 });
  return stored.source ?? '';
}

async function storedVersion(ctx: CliContext, existing: DeployableView): Promise<StoredVersion | undefined> {
  try {
    return await ctx.client().get<StoredVersion>(`${path(existing.id)}/versions/${existing.version}`);
  } catch (e) {
    if (e instanceof NepheleApiError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * `apply -f`: create the deployable, or store a new version of the one with the same name. A
 * document that says what the current version says stores nothing and prints `unchanged`.
 * `--dry-run` changes nothing: it prints what would be created, or the diff against the stored
 * version.
 */
async function apply(
  ctx: CliContext,
  opts: { file: string; start: boolean; dryRun: boolean },
): Promise<void> {
  const doc = readDocumentFile(opts.file, ctx.io.stdin);
  const headers = { 'content-type': CONTENT_TYPES[doc.format] };
  const name = deployableNameOf(doc);
  const existing = name ? await findByName(ctx, name) : undefined;
  const client = ctx.client();
  const stored = existing ? await storedVersion(ctx, existing) : undefined;
  const unchanged = stored !== undefined && sameDocument(doc, stored);
  if (opts.dryRun) {
    if (!existing) {
      return ctx.printDone(
        `deployable ${name ?? '(unnamed)'} would be created (dry run: nothing stored)\n${unifiedDiff('', doc.text, ['(none)', doc.source])}`,
        { name: name ?? null, action: 'create', dryRun: true },
      );
    }
    const diff = unchanged
      ? ''
      : unifiedDiff(storedText(doc, stored ?? { version: existing.version }), doc.text, [
          `${existing.name} version ${existing.version}`,
          doc.source,
        ]);
    return ctx.printDone(
      unchanged
        ? `deployable ${existing.name} unchanged (version ${existing.version}; dry run)`
        : `deployable ${existing.name} would be updated to version ${existing.version + 1} (dry run: nothing stored)\n${diff}\nnote: the DPE plans from the stored version; this server gives no plan preview`,
      { id: existing.id, name: existing.name, action: unchanged ? 'none' : 'update', dryRun: true, diff },
    );
  }
  if (!existing) {
    const project = await ctx.projectId(true);
    const query = queryString({ project, start: opts.start ? undefined : 'false' });
    const v = await client.post<DeployableView>(`/v1/deployables${query}`, doc.text, headers);
    return ctx.printDone(
      `deployable ${v.name} created (id ${v.id}, version ${v.version}, status ${v.status})`,
      v,
    );
  }
  if (unchanged) {
    return ctx.printDone(`deployable ${existing.name} unchanged (version ${existing.version})`, {
      ...existing,
      unchanged: true,
    });
  }
  // The ETag of the version just read: the PUT is refused (412) if someone changed it meanwhile.
  const etag = existing.etag ?? `W/"${existing.version}"`;
  const v = await client.put<DeployableView>(path(existing.id), doc.text, { ...headers, 'if-match': etag });
  if (v.unchanged || v.version === existing.version)
    return ctx.printDone(`deployable ${v.name} unchanged (version ${v.version})`, { ...v, unchanged: true });
  ctx.printDone(`deployable ${v.name} updated (id ${v.id}, version ${v.version}, status ${v.status})`, v);
}

/** A failure worth retrying while watching: the network or a 5xx. 4xx answers end the watch. */
function transient(e: unknown): boolean {
  return !(e instanceof NepheleApiError) || e.status >= 500;
}

async function watch(
  ctx: CliContext,
  ref: string,
  opts: { timeout: string; interval: string },
): Promise<number> {
  const timeoutMs = parseDurationFlag('--timeout', opts.timeout);
  const intervalMs = Math.max(200, parseDurationFlag('--interval', opts.interval));
  const started = ctx.io.now().getTime();
  const client = ctx.client();
  let last = '';
  for (;;) {
    const elapsed = ctx.io.now().getTime() - started;
    let v: DeployableView | undefined;
    try {
      v = await client.get<DeployableView>(path(ref));
    } catch (e) {
      if (!transient(e)) throw e;
      ctx.io.err(`${elapsedPrefix(elapsed)} ${describeError(e, ctx.settings.url).lines[0]} (retrying)\n`);
    }
    if (v) {
      const line = progressLine(v);
      if (line !== last) {
        last = line;
        if (ctx.json)
          ctx.io.out(
            `${JSON.stringify({ elapsedMs: elapsed, name: v.name, status: v.status, reason: reasonOf(v) || null, conditions: v.conditions ?? [], assemblies: v.assemblies })}\n`,
          );
        else ctx.io.out(`${elapsedPrefix(elapsed)} ${v.name}: ${line}\n`);
      }
      const verdict = watchVerdict(v);
      if (verdict.done) {
        if (verdict.exitCode === 0) ctx.io.out(ctx.json ? '' : `${verdict.message}\n`);
        else ctx.io.err(`error: ${verdict.message}\n`);
        return verdict.exitCode;
      }
    }
    if (elapsed + intervalMs > timeoutMs) {
      throw new CliError(
        `timed out after ${opts.timeout}: deployable ${v?.name ?? ref} is ${v ? `still ${v.status}` : 'unreachable'}`,
      );
    }
    await sleep(intervalMs);
  }
}

type Run = (fn: Parameters<typeof action>[2]) => ReturnType<typeof action>;

/** apply, list, status, watch. */
function addReadWriteCommands(cmd: Command, run: Run): void {
  cmd
    .command('apply')
    .description('create a deployable from a file, or update the one with the same name (a new version)')
    .requiredOption(
      '-f, --file <file>',
      'the deployable: Nephele YAML/JSON or pacemaker-cloud XML (- reads stdin)',
    )
    .option('--no-start', 'store a new deployable without starting it')
    .option('--dry-run', 'store nothing: print what would be created, or the diff against the stored version')
    .action(
      run((ctx, _a, o) =>
        apply(ctx, { file: o.file as string, start: o.start !== false, dryRun: o.dryRun === true }),
      ),
    );

  cmd
    .command('list')
    .description('deployables with their live status (of --project when it is set)')
    .action(
      run(async (ctx) => {
        const project = await ctx.projectId(false);
        ctx.printList(
          await ctx.client().all<DeployableView>(`/v1/deployables${queryString({ project })}`),
          LIST_COLUMNS,
        );
      }),
    );

  cmd
    .command('status')
    .argument('<ref>', 'name or id')
    .description('status with a table of assemblies and services')
    .action(
      run(async (ctx, [ref]) => {
        const v = await ctx.client().get<DeployableView>(path(ref!));
        if (ctx.json) ctx.printJson(v);
        else ctx.io.out(`${renderStatus(v)}\n`);
      }),
    );

  cmd
    .command('watch')
    .argument('<ref>', 'name or id')
    .description('print progress until the deployable is running (exit 0) or failed (exit 1)')
    .option('--timeout <duration>', 'give up after this long (exit 1)', '10m')
    .option('--interval <duration>', 'how often to look', '1s')
    .action(
      run((ctx, [ref], o) =>
        watch(ctx, ref!, { timeout: o.timeout as string, interval: o.interval as string }),
      ),
    );
}

/** start, stop, retry, delete. */
function addControlCommands(cmd: Command, run: Run): void {
  for (const verb of ['start', 'stop'] as const) {
    cmd
      .command(verb)
      .argument('<ref>', 'name or id')
      .description(
        verb === 'start'
          ? 'start a stopped deployable'
          : 'stop: services and instances go, the configuration stays',
      )
      .action(
        run(async (ctx, [ref]) => {
          const v = await ctx.client().post<DeployableView>(`${path(ref!)}/${verb}`);
          ctx.printDone(
            `deployable ${v.name}: ${verb} requested (desired ${v.desired}, status ${v.status})`,
            v,
          );
        }),
      );
  }

  cmd
    .command('retry')
    .argument('<ref>', 'name or id')
    .description('clear the failure budgets of a failed deployable and let the DPE try again')
    .action(
      run(async (ctx, [ref]) => {
        let v: DeployableView;
        try {
          v = await ctx.client().post<DeployableView>(`${path(ref!)}/retry`);
        } catch (e) {
          // A server without the retry route answers 404 with another wording than "deployable x not found".
          if (e instanceof NepheleApiError && e.status === 404 && !/deployable/i.test(e.problem.detail ?? ''))
            throw new CliError(
              'this server has no retry route: run `nephele deployable start` on a stopped deployable, or re-apply it',
            );
          throw e;
        }
        ctx.printDone(`deployable ${v.name ?? ref}: retry requested (status ${v.status ?? 'unknown'})`, v);
      }),
    );

  cmd
    .command('delete')
    .argument('<ref>', 'name or id')
    .description('destroy: the DPE stops, instances are destroyed, the configuration is deleted')
    .action(
      run(async (ctx, [ref]) => {
        const r = await ctx.client().delete<{ id: string; instances: number }>(path(ref!));
        ctx.printDone(`deployable ${ref} deleted (${r.instances} instance(s) being destroyed)`, r);
      }),
    );
}

export function deployableCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run: Run = (fn) => action(make, setExit, fn);
  const cmd = new Command('deployable').description(
    'deployables kept healthy by the policy engine (/v1/deployables)',
  );
  addReadWriteCommands(cmd, run);
  addControlCommands(cmd, run);
  return cmd;
}
