import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { DeployableView, renderStatus } from '../deployables/deployable-view.util';
import { UsageError } from '../errors.util';
import { renderKeyValues, renderTable } from '../output/table.util';
import { ClusterView, renderCluster } from './cluster.command';
import { action, ContextFactory } from './command.util';
import { groupId } from './group.command';
import { EventView, EXPLAINED_EVENT_COLUMNS, lastEvents } from './events.command';
import { ApiObject, RESOURCES } from './resource-defs';

/** How many of an object's events `describe` shows. */
export const DESCRIBE_EVENTS = 20;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API objects shown as they come
type Loose = Record<string, any>;

interface Described {
  object: unknown;
  text: string;
  /** The subjects its events are filed under (a cluster's are its deployable's). */
  subjects: string[];
}

async function describeDeployable(ctx: CliContext, ref: string): Promise<Described> {
  const v = await ctx.client().get<DeployableView>(`/v1/deployables/${encodeURIComponent(ref)}`);
  return { object: v, text: renderStatus(v), subjects: [v.id] };
}

async function describeCluster(ctx: CliContext, ref: string): Promise<Described> {
  const c = await ctx.client().get<ClusterView>(`/v1/clusters/${encodeURIComponent(ref)}`);
  return { object: c, text: renderCluster(c), subjects: [c.id, ...(c.deployableId ? [c.deployableId] : [])] };
}

async function describeGroup(ctx: CliContext, ref: string): Promise<Described> {
  const client = ctx.client();
  const id = await groupId(ctx, ref);
  const g = await client.get<Loose>(`/v1/groups/${id}`);
  const s = await client.get<Loose>(`/v1/groups/${id}/state`);
  const text = [
    renderKeyValues({
      id: g.id,
      name: g.config?.name,
      project: g.project,
      entities: `${g.config?.minEntities}..${g.config?.maxEntities}`,
      cooldown: `${g.config?.cooldown}s`,
      status: s.status,
      paused: s.paused,
      desired: s.desiredCapacity,
      active: s.activeCapacity,
      pending: s.pendingCapacity,
      launch: g.launchConfig,
    }),
    ...(Array.isArray(s.errors) ? s.errors.map((e: string) => `error: ${e}`) : []),
    '',
    Array.isArray(g.policies) && g.policies.length
      ? renderTable(g.policies as Record<string, unknown>[], [
          { header: 'policy', value: (p) => p.name },
          { header: 'type', value: (p) => p.type },
          { header: 'change', value: (p) => p.change ?? (p.changePercent !== undefined ? `${String(p.changePercent)}%` : `=${String(p.desiredCapacity)}`) },
          { header: 'cooldown', value: (p) => `${String(p.cooldown)}s` },
        ])
      : 'no policies',
    '',
    Array.isArray(s.servers) && s.servers.length
      ? renderTable(s.servers as Record<string, unknown>[], [
          { header: 'server', value: (x) => x.id, max: 36 },
          { header: 'state', value: (x) => x.state },
          { header: 'addresses', value: (x) => x.addresses },
          { header: 'reason', value: (x) => x.reason },
        ])
      : 'no servers',
  ].join('\n');
  return { object: { ...g, state: s }, text, subjects: [g.id as string] };
}

async function describeResource(ctx: CliContext, kind: string, ref: string): Promise<Described | undefined> {
  const def = RESOURCES.find((r) => r.command === kind || r.label === kind);
  if (!def) return undefined;
  const id = def.byName
    ? await ctx.resolveId({ path: def.path, label: def.label, global: !def.projectOwned }, ref)
    : ref;
  const o = await ctx.client().get<ApiObject>(`${def.path}/${id}`);
  return { object: o, text: renderKeyValues(o), subjects: [o.id] };
}

/** The kinds `describe` knows (and their plurals, as kubectl accepts). */
export const DESCRIBE_KINDS = ['deployable', 'cluster', 'group', ...RESOURCES.map((r) => r.command)];

export function describeCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  return new Command('describe')
    .argument('<kind>', `what: ${DESCRIBE_KINDS.join(', ')}`)
    .argument('<ref>', 'name or id')
    .description(`an object, its conditions and its last ${DESCRIBE_EVENTS} events with their explanations`)
    .action(
      action(make, setExit, async (ctx, [rawKind, ref]) => {
        const kind = rawKind!.toLowerCase().replace(/s$/, '');
        const d =
          kind === 'deployable'
            ? await describeDeployable(ctx, ref!)
            : kind === 'cluster'
              ? await describeCluster(ctx, ref!)
              : kind === 'group'
                ? await describeGroup(ctx, ref!)
                : await describeResource(ctx, kind, ref!);
        if (!d) throw new UsageError(`cannot describe "${rawKind}": use one of ${DESCRIBE_KINDS.join(', ')}`);
        const events: EventView[] = [];
        for (const subject of d.subjects) events.push(...(await lastEvents(ctx, { subject }, DESCRIBE_EVENTS)));
        events.sort((a, b) => String(a.time).localeCompare(String(b.time)));
        const recent = events.slice(-DESCRIBE_EVENTS);
        if (ctx.json) return ctx.printJson({ object: d.object, events: recent });
        ctx.io.out(
          `${d.text}\n\nEvents (last ${DESCRIBE_EVENTS}):\n${recent.length ? ctx.table(recent, EXPLAINED_EVENT_COLUMNS) : 'no events'}\n`,
        );
      }),
    );
}
