import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { UsageError } from '../errors.util';
import { parseObjectDocument, readDocumentFile } from '../input/document.util';
import { queryString } from '../input/flags.util';
import { Column, renderKeyValues, renderTable } from '../output/table.util';
import { action, ContextFactory } from './command.util';
import { ApiObject, REFS } from './resource-defs';

/** A cluster as `/v1/clusters` shows it. */
export interface ClusterView {
  id: string;
  name: string;
  project: string;
  appliance: { id: string; name: string; implementation: string; templateVersion: string };
  parameters: Record<string, unknown>;
  users: string[];
  deployableId: string | null;
  status: string;
  reason: string | null;
  outputs: {
    assemblies: { name: string; state: string; addresses: string[] }[];
    values: Record<string, string | null>;
  };
  createdAt: string;
}

export const CLUSTER_COLUMNS: Column<ClusterView>[] = [
  { header: 'id', value: (c) => c.id, max: 36 },
  { header: 'name', value: (c) => c.name },
  { header: 'appliance', value: (c) => c.appliance?.name },
  { header: 'status', value: (c) => c.status },
  { header: 'reason', value: (c) => c.reason },
];
const CLUSTER_WIDE: Column<ClusterView>[] = [
  { header: 'deployable', value: (c) => c.deployableId, max: 36 },
  { header: 'outputs', value: (c) => c.outputs?.values },
  { header: 'created', value: (c) => c.createdAt },
];

const IMPLEMENTATION_COLUMNS: Column<ApiObject>[] = [
  { header: 'id', value: (r) => r.id, max: 36 },
  { header: 'provider', value: (r) => r.providerId, max: 36 },
  { header: 'template version', value: (r) => r.templateVersion },
  { header: 'parameters', value: (r) => (Array.isArray(r.parameters) ? r.parameters.map((p: { name: string }) => p.name) : []) },
  { header: 'outputs', value: (r) => (Array.isArray(r.outputs) ? r.outputs.map((p: { name: string }) => p.name) : []) },
];

/** `key=value` parameters: numbers and booleans as such, the rest as text. */
export function parseParams(raw: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of raw) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--param must be NAME=VALUE (got "${p}")`);
    const v = p.slice(i + 1);
    out[p.slice(0, i)] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return out;
}

/** `nephele cluster show`: the cluster, then its assemblies and output values. */
export function renderCluster(c: ClusterView): string {
  const head = renderKeyValues({
    id: c.id,
    name: c.name,
    project: c.project,
    appliance: `${c.appliance?.name} (implementation ${c.appliance?.implementation}, template ${c.appliance?.templateVersion})`,
    parameters: c.parameters,
    users: c.users,
    deployable: c.deployableId,
    status: c.status,
    reason: c.reason,
    created: c.createdAt,
  });
  const assemblies = c.outputs?.assemblies ?? [];
  const values = Object.entries(c.outputs?.values ?? {});
  return [
    head,
    '',
    assemblies.length
      ? renderTable(assemblies, [
          { header: 'assembly', value: (a) => a.name },
          { header: 'state', value: (a) => a.state },
          { header: 'addresses', value: (a) => a.addresses },
        ])
      : 'no assemblies yet',
    '',
    values.length
      ? renderTable(values, [
          { header: 'output', value: ([k]) => k },
          { header: 'value', value: ([, v]) => v, max: 200 },
        ])
      : 'no outputs',
  ].join('\n');
}

const clusterPath = (ref: string) => `/v1/clusters/${encodeURIComponent(ref)}`;

export function clusterCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const cmd = new Command('cluster').description('clusters: appliances instantiated (/v1/clusters)');

  cmd
    .command('list')
    .description('clusters (of --project when it is set)')
    .action(
      run(async (ctx) => {
        const project = await ctx.projectId(false);
        const { items } = await ctx.client().get<{ items: ClusterView[] }>(`/v1/clusters${queryString({ project })}`);
        ctx.printList(items, CLUSTER_COLUMNS, CLUSTER_WIDE);
      }),
    );

  cmd
    .command('get')
    .alias('show')
    .argument('<ref>', 'name or id')
    .description('a cluster: status, assemblies and outputs')
    .action(
      run(async (ctx, [ref]) => {
        const c = await ctx.client().get<ClusterView>(clusterPath(ref!));
        if (ctx.json) return ctx.printJson(c);
        ctx.io.out(`${renderCluster(c)}\n`);
      }),
    );

  cmd
    .command('create')
    .argument('[name]', 'the cluster name')
    .description('create a cluster from an appliance (its newest implementation unless --implementation)')
    .option('--appliance <name|id>', 'the appliance')
    .option('--param <name=value>', 'a template parameter (repeat for several)', (v: string, p: string[] = []) => [...p, v])
    .option('--implementation <id>', 'an implementation id')
    .option('--pool <name|id>', "the pool (default: the template's, else default)")
    .option('-f, --file <file>', 'the body as JSON or YAML: {name, appliance, parameters, users, pool}')
    .action(
      run(async (ctx, [name], o) => {
        const body: Record<string, unknown> =
          typeof o.file === 'string' ? parseObjectDocument(readDocumentFile(o.file, ctx.io.stdin)) : {};
        if (name) body.name = name;
        if (o.appliance) body.appliance = o.appliance;
        if (o.implementation) body.implementation = o.implementation;
        if (o.pool) body.pool = o.pool;
        if (Array.isArray(o.param)) body.parameters = { ...(body.parameters as object), ...parseParams(o.param as string[]) };
        const missing = ['name', 'appliance'].filter((k) => body[k] === undefined);
        if (missing.length)
          throw new UsageError(`missing ${missing.join(', ')}`, [
            ...(body.name === undefined ? ['name: give it as the first argument'] : []),
            ...(body.appliance === undefined ? ['--appliance: required (or "appliance" in the -f file)'] : []),
          ]);
        const project = await ctx.projectId(true);
        const c = await ctx.client().post<ClusterView>(`/v1/clusters${queryString({ project })}`, body);
        ctx.printDone(`cluster ${c.name} created (id ${c.id}, status ${c.status})`, c);
      }),
    );

  cmd
    .command('delete')
    .argument('<ref>', 'name or id')
    .description('free every resource of the cluster')
    .action(
      run(async (ctx, [ref]) => {
        const r = await ctx.client().delete<{ id: string; instances: number }>(clusterPath(ref!));
        ctx.printDone(`cluster ${ref} deleted (${r?.instances ?? 0} instance(s) being destroyed)`, r);
      }),
    );
  return cmd;
}

/** `nephele appliance implementation list <appliance>`: an appliance's implementations. */
export function implementationCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const cmd = new Command('implementation').description("an appliance's implementations (templates per provider)");
  const base = async (ctx: CliContext, appliance: string) =>
    `/v1/appliances/${await ctx.resolveId({ path: '/v1/appliances', label: 'appliance' }, appliance)}/implementations`;
  cmd
    .command('list')
    .argument('<appliance>', 'appliance name or id')
    .action(
      run(async (ctx, [appliance]) => {
        ctx.printList(await ctx.client().all<ApiObject>(await base(ctx, appliance!)), IMPLEMENTATION_COLUMNS);
      }),
    );
  cmd
    .command('create')
    .argument('<appliance>', 'appliance name or id')
    .requiredOption('-f, --file <file>', 'the implementation as JSON or YAML: {providerId, templateVersion, template, parameters, outputs}')
    .action(
      run(async (ctx, [appliance], o) => {
        const body = parseObjectDocument(readDocumentFile(o.file as string, ctx.io.stdin));
        if (typeof body.providerId === 'string') body.providerId = await ctx.resolveId(REFS.provider, body.providerId);
        ctx.printObject(await ctx.client().post<ApiObject>(await base(ctx, appliance!), body));
      }),
    );
  return cmd;
}
