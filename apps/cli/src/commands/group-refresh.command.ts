import { Command } from 'commander';
import { sleep } from '@nephele/util';
import { CliContext } from '../cli-context';
import { CliError, UsageError } from '../errors.util';
import { parseCount, parseDurationFlag, parseNumber } from '../input/flags.util';
import { elapsedPrefix } from '../deployables/deployable-view.util';
import { renderKeyValues, renderTable } from '../output/table.util';
import { refreshLine, refreshVerdict, RefreshView } from '../output/refresh-view.util';
import { action, ContextFactory, Opts } from './command.util';
import { groupId } from './group.command';

const path = (gid: string) => `/v1/groups/${gid}/refresh`;

function print(ctx: CliContext, r: RefreshView, what?: string): void {
  if (ctx.json) return ctx.printJson(r);
  ctx.io.out(
    `${what ? `${what}\n` : ''}${refreshLine(r)}\n${renderKeyValues({
      refresh: r.id,
      status: r.status,
      versions: `v${r.fromVersion} → v${r.toVersion}`,
      settings: `min healthy ${r.spec.minHealthyPercentage}%, batch ${r.spec.batchSize}, warmup ${r.spec.warmup}s${r.spec.launchBeforeRetire ? ', launch before retire' : ''}`,
      batches: r.batches,
      started: r.createdAt,
      finished: r.finishedAt,
    })}\n`,
  );
}

async function watch(ctx: CliContext, gid: string, o: Opts): Promise<number> {
  const timeoutMs = parseDurationFlag('--timeout', String(o.timeout));
  const intervalMs = Math.max(200, parseDurationFlag('--interval', String(o.interval)));
  const started = ctx.io.now().getTime();
  let last = '';
  for (;;) {
    const elapsed = ctx.io.now().getTime() - started;
    const r = await ctx.client().get<RefreshView>(path(gid));
    const line = refreshLine(r);
    if (line !== last) {
      last = line;
      ctx.io.out(
        ctx.json
          ? `${JSON.stringify({ elapsedMs: elapsed, ...r })}\n`
          : `${elapsedPrefix(elapsed)} ${line}\n`,
      );
    }
    const v = refreshVerdict(r);
    if (v.done) {
      if (v.exitCode === 0) ctx.io.out(ctx.json ? '' : `${v.message}\n`);
      else ctx.io.err(`error: ${v.message}\n`);
      return v.exitCode;
    }
    if (elapsed + intervalMs > timeoutMs) {
      throw new CliError(`timed out after ${String(o.timeout)}: the refresh is still ${r.status}`);
    }
    await sleep(intervalMs);
  }
}

/** `nephele group refresh …`: an instance refresh's progress, start, pause, resume, cancel. */
export function refreshCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const cmd = new Command('refresh').description(
    "a group's instance refresh (rolling replacement after a launch-config change)",
  );

  cmd
    .command('status')
    .argument('<ref>', 'group name or id')
    .description('the latest refresh with a progress bar; --watch follows it until it ends')
    .option('--watch', 'print progress until the refresh ends (exit 0 succeeded, 1 otherwise)')
    .option('--timeout <duration>', 'with --watch: give up after this long (exit 1)', '1h')
    .option('--interval <duration>', 'with --watch: how often to look', '2s')
    .action(
      run(async (ctx, [ref], o) => {
        const gid = await groupId(ctx, ref!);
        if (o.watch) return watch(ctx, gid, o);
        print(ctx, await ctx.client().get<RefreshView>(path(gid)));
      }),
    );

  cmd
    .command('start')
    .argument('<ref>', 'group name or id')
    .description('replace the servers not at the current launch config, batch by batch')
    .option(
      '--min-healthy <percent>',
      'healthy servers never below this % of the desired capacity (default 90)',
    )
    .option('--batch-size <n>', 'servers replaced at once (default 1)')
    .option('--warmup <seconds>', 'time a batch has to become healthy before a roll-back (default 300)')
    .option('--launch-before-retire', "launch each batch's new servers before retiring its old ones")
    .action(
      run(async (ctx, [ref], o) => {
        const gid = await groupId(ctx, ref!);
        const body: Record<string, number | boolean> = {};
        if (o.launchBeforeRetire) body.launchBeforeRetire = true;
        if (o.minHealthy !== undefined)
          body.minHealthyPercentage = parseCount('--min-healthy', String(o.minHealthy));
        if (o.batchSize !== undefined) body.batchSize = parseCount('--batch-size', String(o.batchSize));
        if (o.warmup !== undefined) body.warmup = parseNumber('--warmup', String(o.warmup));
        print(ctx, await ctx.client().post<RefreshView>(path(gid), body), `refresh of group ${ref} started`);
      }),
    );

  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    cmd
      .command(verb)
      .argument('<ref>', 'group name or id')
      .description(
        verb === 'pause'
          ? 'hold the refresh (no new batch until resumed)'
          : verb === 'resume'
            ? 'resume a paused refresh'
            : 'stop the refresh where it is (servers already replaced stay)',
      )
      .action(
        run(async (ctx, [ref]) => {
          const gid = await groupId(ctx, ref!);
          const r = await ctx.client().post<RefreshView>(`${path(gid)}/${verb}`);
          print(ctx, r, `refresh of group ${ref}: ${r.status}`);
        }),
      );
  }
  return cmd;
}

interface HookView {
  name: string;
  kind: string;
  timeout: number;
  defaultResult: string;
}

type Run = (fn: Parameters<typeof action>[2]) => ReturnType<typeof action>;

/** `nephele group hook …` and the calls that end or extend a server's wait. */
export function lifecycleCommands(make: ContextFactory, setExit: (n: number) => void): Command[] {
  const run: Run = (fn) => action(make, setExit, fn);
  return [hookCommand(run), ...lifecycleActionCommands(run)];
}

/** `nephele group hook list|set|delete`. */
function hookCommand(run: Run): Command {
  const hook = new Command('hook').description("a group's lifecycle hooks (PENDING:WAIT / TERMINATING:WAIT)");
  hook
    .command('list')
    .argument('<ref>', 'group name or id')
    .description('the hooks of a group')
    .action(
      run(async (ctx, [ref]) => {
        const gid = await groupId(ctx, ref!);
        const { items } = await ctx.client().get<{ items: HookView[] }>(`/v1/groups/${gid}/lifecycle-hooks`);
        if (ctx.json) return ctx.printJson(items);
        ctx.io.out(
          items.length
            ? `${renderTable(items, [
                { header: 'name', value: (h) => h.name },
                { header: 'kind', value: (h) => h.kind },
                { header: 'timeout', value: (h) => `${h.timeout}s` },
                { header: 'default', value: (h) => h.defaultResult },
              ])}\n`
            : 'no lifecycle hooks\n',
        );
      }),
    );
  hook
    .command('set')
    .argument('<ref>', 'group name or id')
    .argument('<name>', 'hook name')
    .description('create or replace a hook (one per kind)')
    .requiredOption('--kind <kind>', 'launching | terminating')
    .requiredOption('--timeout <seconds>', 'seconds without completion or heartbeat')
    .option('--default-result <result>', 'CONTINUE | ABANDON after the timeout', 'CONTINUE')
    .action(
      run(async (ctx, [ref, name], o) => {
        const gid = await groupId(ctx, ref!);
        const h = await ctx
          .client()
          .put<HookView>(`/v1/groups/${gid}/lifecycle-hooks/${encodeURIComponent(name!)}`, {
            kind: o.kind,
            timeout: parseNumber('--timeout', String(o.timeout)),
            defaultResult: String(o.defaultResult).toUpperCase(),
          });
        ctx.printDone(
          `hook ${h.name} (${h.kind}, ${h.timeout}s, default ${h.defaultResult}) set on group ${ref}`,
          h,
        );
      }),
    );
  hook
    .command('delete')
    .argument('<ref>', 'group name or id')
    .argument('<name>', 'hook name')
    .description('remove a hook (waiting servers go on as with CONTINUE)')
    .action(
      run(async (ctx, [ref, name]) => {
        const gid = await groupId(ctx, ref!);
        await ctx.client().delete(`/v1/groups/${gid}/lifecycle-hooks/${encodeURIComponent(name!)}`);
        ctx.printDone(`hook ${name} removed from group ${ref}`, { name, deleted: true });
      }),
    );
  return hook;
}

/** `complete-lifecycle-action` and `lifecycle-heartbeat`: a waiting server's end or extension. */
function lifecycleActionCommands(run: Run): Command[] {
  const complete = new Command('complete-lifecycle-action')
    .argument('<ref>', 'group name or id')
    .argument('<server>', 'server id')
    .description("end a server's wait on a lifecycle hook")
    .requiredOption('--hook <name>', 'the hook the server waits on')
    .option('--result <result>', 'CONTINUE | ABANDON', 'CONTINUE')
    .action(
      run(async (ctx, [ref, server], o) => {
        const result = String(o.result).toUpperCase();
        if (result !== 'CONTINUE' && result !== 'ABANDON')
          throw new UsageError('--result must be CONTINUE or ABANDON');
        const gid = await groupId(ctx, ref!);
        const r = await ctx
          .client()
          .post<{ lifecycleState: string }>(`/v1/groups/${gid}/servers/${server}/lifecycle-action`, {
            hook: o.hook,
            result,
          });
        ctx.printDone(`server ${server} (${r.lifecycleState}): ${result} recorded`, r);
      }),
    );
  const heartbeat = new Command('lifecycle-heartbeat')
    .argument('<ref>', 'group name or id')
    .argument('<server>', 'server id')
    .description("restart the hook's timeout for a waiting server")
    .requiredOption('--hook <name>', 'the hook the server waits on')
    .action(
      run(async (ctx, [ref, server], o) => {
        const gid = await groupId(ctx, ref!);
        const r = await ctx
          .client()
          .post<{ waitingUntil?: string }>(`/v1/groups/${gid}/servers/${server}/lifecycle-heartbeat`, {
            hook: o.hook,
          });
        ctx.printDone(`server ${server} waits until ${r.waitingUntil ?? '-'}`, r);
      }),
    );
  return [complete, heartbeat];
}
