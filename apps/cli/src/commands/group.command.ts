import { Command } from 'commander';
import { CliContext, pickByName } from '../cli-context';
import { UsageError } from '../errors.util';
import { parseObjectDocument, readDocumentFile } from '../input/document.util';
import { isUuid, parseCount, parseJsonObject, queryString } from '../input/flags.util';
import { Column, renderKeyValues, renderTable } from '../output/table.util';
import { action, ContextFactory } from './command.util';
import { lifecycleCommands, refreshCommand } from './group-refresh.command';

/** A group as `/v1/groups` shows it. */
export interface GroupView {
  id: string;
  project: string | null;
  config: { name: string; minEntities: number; maxEntities: number; cooldown: number; metadata?: object };
  launchConfig: { image?: string; hardwareProfile?: string; pool?: string };
  policies?: PolicyView[];
  state: { desiredCapacity: number; paused: boolean; status: string };
}

export interface PolicyView {
  id: string;
  name: string;
  type: string;
  cooldown: number;
  change?: number;
  changePercent?: number;
  desiredCapacity?: number;
  lastExecutedAt?: string | null;
}

interface GroupState {
  id: string;
  name: string;
  paused: boolean;
  status: string;
  errors: string[];
  desiredCapacity: number;
  activeCapacity: number;
  pendingCapacity: number;
  servers: {
    id: string;
    instanceId?: string;
    state: string;
    addresses?: string[];
    createdAt?: string;
    lifecycleState?: string;
    reason?: string;
  }[];
}

const GROUP_COLUMNS: Column<GroupView>[] = [
  { header: 'id', value: (g) => g.id, max: 36 },
  { header: 'name', value: (g) => g.config.name },
  { header: 'min', value: (g) => g.config.minEntities },
  { header: 'max', value: (g) => g.config.maxEntities },
  { header: 'desired', value: (g) => g.state.desiredCapacity },
  { header: 'status', value: (g) => g.state.status },
  { header: 'paused', value: (g) => g.state.paused },
];

const GROUP_WIDE: Column<GroupView>[] = [
  { header: 'cooldown', value: (g) => `${g.config.cooldown}s` },
  { header: 'image', value: (g) => g.launchConfig.image },
  { header: 'profile', value: (g) => g.launchConfig.hardwareProfile },
  { header: 'pool', value: (g) => g.launchConfig.pool },
  { header: 'project', value: (g) => g.project },
];

const POLICY_COLUMNS: Column<PolicyView>[] = [
  { header: 'id', value: (p) => p.id, max: 36 },
  { header: 'name', value: (p) => p.name },
  { header: 'type', value: (p) => p.type },
  {
    header: 'change',
    value: (p) =>
      p.change !== undefined
        ? `${p.change > 0 ? '+' : ''}${p.change}`
        : p.changePercent !== undefined
          ? `${p.changePercent > 0 ? '+' : ''}${p.changePercent}%`
          : p.desiredCapacity !== undefined
            ? `=${p.desiredCapacity}`
            : undefined,
  },
  { header: 'cooldown', value: (p) => `${p.cooldown}s` },
  { header: 'last executed', value: (p) => p.lastExecutedAt },
];

const SERVER_COLUMNS: Column<GroupState['servers'][number]>[] = [
  { header: 'server', value: (s) => s.id, max: 36 },
  { header: 'instance', value: (s) => s.instanceId, max: 36 },
  { header: 'state', value: (s) => s.state },
  { header: 'addresses', value: (s) => s.addresses },
  { header: 'lifecycle', value: (s) => s.lifecycleState },
  { header: 'created', value: (s) => s.createdAt },
  { header: 'reason', value: (s) => s.reason },
];

/** A group id from a name or an id (groups are listed and matched by their config name). */
export async function groupId(ctx: CliContext, ref: string): Promise<string> {
  if (isUuid(ref)) return ref;
  const project = await ctx.projectId(false);
  const groups = await ctx.client().all<GroupView>(`/v1/groups${queryString({ project })}`);
  return pickByName(groups, ref, 'group', (g) => g.config.name).id;
}

export interface ExecuteResult {
  desiredBefore: number;
  desiredAfter: number;
  changed: boolean;
  reason?: string;
}

/** The policy the CLI and console use to set a desired capacity (the API has no direct route). */
export const SET_DESIRED_POLICY = 'nephele-set-desired';

// Note [Set desired]: the scaler has no "set desired capacity" route; Otter's way is a policy with
// `desiredCapacity`. The CLI creates a zero-cooldown webhook policy with that capacity, executes it
// and deletes it, so the group's own cooldown, clamping and pause still apply as for any policy.
async function setDesired(ctx: CliContext, gid: string, desired: number): Promise<ExecuteResult> {
  const client = ctx.client();
  const { items } = await client.get<{ items: PolicyView[] }>(`/v1/groups/${gid}/policies`);
  for (const stale of items.filter((p) => p.name === SET_DESIRED_POLICY))
    await client.delete(`/v1/groups/${gid}/policies/${stale.id}`);
  const created = await client.post<PolicyView | { items: PolicyView[] }>(`/v1/groups/${gid}/policies`, {
    name: SET_DESIRED_POLICY,
    type: 'webhook',
    desiredCapacity: desired,
    cooldown: 0,
  });
  const policy = 'items' in created ? created.items[0]! : created;
  try {
    return await client.post<ExecuteResult>(`/v1/groups/${gid}/policies/${policy.id}/execute`);
  } finally {
    await client.delete(`/v1/groups/${gid}/policies/${policy.id}`).catch(() => undefined);
  }
}

async function policyOf(ctx: CliContext, gid: string, ref: string): Promise<PolicyView> {
  const { items } = await ctx.client().get<{ items: PolicyView[] }>(`/v1/groups/${gid}/policies`);
  return pickByName(items, ref, 'policy');
}

type Run = (fn: Parameters<typeof action>[2]) => ReturnType<typeof action>;

/** list, get. */
function addQueryCommands(cmd: Command, run: Run): void {
  cmd
    .command('list')
    .description('groups (of --project when it is set)')
    .action(
      run(async (ctx) => {
        const project = await ctx.projectId(false);
        ctx.printList(
          await ctx.client().all<GroupView>(`/v1/groups${queryString({ project })}`),
          GROUP_COLUMNS,
          GROUP_WIDE,
        );
      }),
    );

  cmd
    .command('get')
    .argument('<ref>', 'name or id')
    .description('a group with its config, launch config and policies')
    .action(
      run(async (ctx, [ref]) => {
        const g = await ctx.client().get<GroupView>(`/v1/groups/${await groupId(ctx, ref!)}`);
        if (ctx.json) return ctx.printJson(g);
        const lc = g.launchConfig;
        ctx.io.out(
          `${renderKeyValues({
            id: g.id,
            name: g.config.name,
            project: g.project,
            entities: `${g.config.minEntities}..${g.config.maxEntities}`,
            cooldown: `${g.config.cooldown}s`,
            desired: g.state.desiredCapacity,
            status: g.state.status,
            paused: g.state.paused,
            launch: `image ${lc.image ?? '-'}, profile ${lc.hardwareProfile ?? '-'}${lc.pool ? `, pool ${lc.pool}` : ''}`,
          })}\n\n${g.policies?.length ? renderTable(g.policies, POLICY_COLUMNS) : 'no policies'}\n`,
        );
      }),
    );
}

/** create, state, update. */
function addEditCommands(cmd: Command, run: Run): void {
  cmd
    .command('create')
    .description('create a group from a file: {config, launchConfig, policies?} as JSON or YAML')
    .requiredOption('-f, --file <file>', 'the group (- reads standard input)')
    .action(
      run(async (ctx, _a, o) => {
        const body = parseObjectDocument(readDocumentFile(o.file as string, ctx.io.stdin));
        if (body.project === undefined) body.project = await ctx.projectId(true);
        const g = await ctx.client().post<GroupView>('/v1/groups', body);
        ctx.printDone(`group ${g.config.name} created (id ${g.id}, desired ${g.state.desiredCapacity})`, g);
      }),
    );

  cmd
    .command('state')
    .argument('<ref>', 'name or id')
    .description('desired, active and pending capacity and the servers')
    .action(
      run(async (ctx, [ref]) => {
        const s = await ctx.client().get<GroupState>(`/v1/groups/${await groupId(ctx, ref!)}/state`);
        if (ctx.json) return ctx.printJson(s);
        const head = [
          `group ${s.name} (${s.id})  status ${s.status}${s.paused ? '  PAUSED' : ''}`,
          `desired ${s.desiredCapacity}  active ${s.activeCapacity}  pending ${s.pendingCapacity}`,
          ...s.errors.map((e) => `error: ${e}`),
        ];
        const servers = s.servers.length ? renderTable(s.servers, SERVER_COLUMNS) : 'no servers';
        ctx.io.out(`${head.join('\n')}\n\n${servers}\n`);
      }),
    );

  cmd
    .command('update')
    .argument('<ref>', 'name or id')
    .description("change a group's config (the flags given; the rest stays)")
    .option('--min <n>', 'minEntities')
    .option('--max <n>', 'maxEntities')
    .option('--cooldown <seconds>', 'group cooldown in seconds')
    .option('--metadata <json>', 'metadata as a JSON object')
    .option('-f, --file <file>', 'the whole config as JSON or YAML (flags win over it)')
    .action(
      run(async (ctx, [ref], o) => {
        const id = await groupId(ctx, ref!);
        const current = await ctx.client().request<GroupView['config']>('GET', `/v1/groups/${id}/config`);
        const body: Record<string, unknown> = {
          ...current.body,
          ...(typeof o.file === 'string' ? parseObjectDocument(readDocumentFile(o.file, ctx.io.stdin)) : {}),
        };
        if (o.min !== undefined) body.minEntities = parseCount('--min', String(o.min));
        if (o.max !== undefined) body.maxEntities = parseCount('--max', String(o.max));
        if (o.cooldown !== undefined) body.cooldown = parseCount('--cooldown', String(o.cooldown));
        if (o.metadata !== undefined) body.metadata = parseJsonObject('--metadata', String(o.metadata));
        const etag = current.headers.get('etag');
        const updated = await ctx
          .client()
          .put<GroupView['config']>(`/v1/groups/${id}/config`, body, etag ? { 'if-match': etag } : {});
        ctx.printDone(
          `group ${updated.name} updated (entities ${updated.minEntities}..${updated.maxEntities}, cooldown ${updated.cooldown}s)`,
          updated,
        );
      }),
    );
}

/** set-desired, pause, resume, delete. */
function addControlCommands(cmd: Command, run: Run): void {
  cmd
    .command('set-desired')
    .argument('<ref>', 'name or id')
    .argument('<capacity>', 'the desired number of servers (clamped to min..max)')
    .description('set the desired capacity now (within the group cooldown it is refused)')
    .action(
      run(async (ctx, [ref, capacity]) => {
        const desired = parseCount('<capacity>', capacity ?? '');
        const id = await groupId(ctx, ref!);
        const r = await setDesired(ctx, id, desired);
        const what = r.changed
          ? `desired ${r.desiredBefore} → ${r.desiredAfter}`
          : `desired stays ${r.desiredAfter}${r.reason ? ` (${r.reason})` : ''}`;
        ctx.printDone(`group ${ref}: ${what}`, r);
      }),
    );

  for (const verb of ['pause', 'resume'] as const) {
    cmd
      .command(verb)
      .argument('<ref>', 'name or id')
      .description(
        verb === 'pause'
          ? 'pause: no policy executes and the group does not converge until resumed'
          : 'resume a paused group',
      )
      .action(
        run(async (ctx, [ref]) => {
          const id = await groupId(ctx, ref!);
          await ctx.client().post(`/v1/groups/${id}/${verb}`);
          ctx.printDone(`group ${ref} ${verb === 'pause' ? 'paused' : 'resumed'}`, {
            id,
            paused: verb === 'pause',
          });
        }),
      );
  }

  cmd
    .command('delete')
    .argument('<ref>', 'name or id')
    .option('--force', 'delete its servers too (otherwise 409 while it has any)')
    .description('delete a group')
    .action(
      run(async (ctx, [ref], o) => {
        const id = await groupId(ctx, ref!);
        const r = await ctx.client().request('DELETE', `/v1/groups/${id}${o.force ? '?force=true' : ''}`);
        const what = r.status === 202 ? 'deletion started (its servers are being removed)' : 'deleted';
        ctx.printDone(`group ${ref} ${what}`, { id, status: r.status === 202 ? 'deleting' : 'deleted' });
      }),
    );
}

export function groupCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run: Run = (fn) => action(make, setExit, fn);
  const cmd = new Command('group').description('autoscaling groups (/v1/groups)');
  addQueryCommands(cmd, run);
  addEditCommands(cmd, run);
  addControlCommands(cmd, run);
  cmd.addCommand(refreshCommand(make, setExit));
  for (const c of lifecycleCommands(make, setExit)) cmd.addCommand(c);
  return cmd;
}

export function policyCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const cmd = new Command('policy').description("a group's scaling policies");

  cmd
    .command('list')
    .argument('<group>', 'group name or id')
    .action(
      run(async (ctx, [group]) => {
        const gid = await groupId(ctx, group!);
        const { items } = await ctx.client().get<{ items: PolicyView[] }>(`/v1/groups/${gid}/policies`);
        ctx.printList(items, POLICY_COLUMNS);
      }),
    );

  cmd
    .command('execute')
    .argument('<group>', 'group name or id')
    .argument('<policy>', 'policy name or id')
    .description('execute a policy now (refused within a cooldown or while the group is paused)')
    .action(
      run(async (ctx, [group, policy]) => {
        if (!group || !policy) throw new UsageError('give the group and the policy');
        const gid = await groupId(ctx, group);
        const p = await policyOf(ctx, gid, policy);
        const r = await ctx.client().post<{
          desiredBefore: number;
          desiredAfter: number;
          changed: boolean;
          reason?: string;
        }>(`/v1/groups/${gid}/policies/${p.id}/execute`);
        const what = r.changed
          ? `desired ${r.desiredBefore} → ${r.desiredAfter}`
          : `desired stays ${r.desiredAfter}${r.reason ? ` (${r.reason})` : ''}`;
        ctx.printDone(`policy ${p.name} executed on group ${group}: ${what}`, r);
      }),
    );
  return cmd;
}
