import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { UsageError } from '../errors.util';
import { isUuid, queryString } from '../input/flags.util';
import { implementationCommand } from './cluster.command';
import { action, buildBody, ContextFactory, optionOf } from './command.util';
import {
  ApiObject,
  PROVIDER_PROFILE_COLUMNS,
  PROVIDER_PROFILE_FLAGS,
  REFS,
  ResourceDef,
  RESOURCES,
} from './resource-defs';

async function idOf(ctx: CliContext, def: ResourceDef, ref: string): Promise<string> {
  if (def.byName) return ctx.resolveId({ path: def.path, label: def.label, global: !def.projectOwned }, ref);
  if (!isUuid(ref)) throw new UsageError(`an ${def.label} is named by its id (got "${ref}")`);
  return ref;
}

const plural = (label: string) => (label.endsWith('y') ? `${label.slice(0, -1)}ies` : `${label}s`);

function resourceCommand(def: ResourceDef, make: ContextFactory, setExit: (n: number) => void): Command {
  const cmd = new Command(def.command).description(`${plural(def.label)} (${def.path})`);
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);

  cmd
    .command('list')
    .description(`list ${plural(def.label)}${def.projectOwned ? ' (of --project when it is set)' : ''}`)
    .action(
      run(async (ctx) => {
        const project = def.projectOwned || def.command === 'token' ? await ctx.projectId(false) : undefined;
        const rows = await ctx.client().all<ApiObject>(`${def.path}${queryString({ project })}`);
        ctx.printList(rows, def.columns);
      }),
    );

  cmd
    .command('get')
    .argument('<ref>', def.byName ? 'name or id' : 'id')
    .description(`show one ${def.label}`)
    .action(
      run(async (ctx, [ref]) => {
        const id = await idOf(ctx, def, ref!);
        ctx.printObject(await ctx.client().get<ApiObject>(`${def.path}/${id}`));
      }),
    );

  const create = cmd
    .command('create')
    .description(`create a ${def.label} from flags and/or -f <file.json|yaml> (flags win over the file)`)
    .option('-f, --file <file>', 'the body as JSON or YAML (- reads standard input)');
  for (const f of def.flags) create.addOption(optionOf(f));
  create.action(
    run(async (ctx, _args, opts) => {
      const body = await buildBody(ctx, def.flags, opts);
      if (def.projectOwned && body.project === undefined) body.project = await ctx.projectId(true);
      if (def.command === 'token' && body.role !== 'admin' && body.project === undefined)
        body.project = await ctx.projectId(true);
      const created = await ctx.client().post<ApiObject>(def.path, body);
      if (def.command === 'token' && !ctx.json)
        ctx.io.err('note: the token value is shown this once; store it now (it cannot be read again)\n');
      ctx.printObject(created);
    }),
  );

  cmd
    .command('delete')
    .argument('<ref>', def.byName ? 'name or id' : 'id')
    .description(def.command === 'token' ? 'revoke a token' : `delete a ${def.label}`)
    .action(
      run(async (ctx, [ref]) => {
        const id = await idOf(ctx, def, ref!);
        await ctx.client().delete(`${def.path}/${id}`);
        const verb = def.command === 'token' ? 'revoked' : 'deleted';
        ctx.printDone(`${def.label} ${ref} ${verb}`, { id, [verb]: true });
      }),
    );
  return cmd;
}

/** `nephele provider profile list|create|delete <provider> …`: a provider's flavours. */
function providerProfileCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  const cmd = new Command('profile').description("a provider's hardware profiles (flavours)");
  const run = (fn: Parameters<typeof action>[2]) => action(make, setExit, fn);
  const base = async (ctx: CliContext, provider: string) =>
    `/v1/providers/${await ctx.resolveId(REFS.provider, provider)}/profiles`;

  cmd
    .command('list')
    .argument('<provider>', 'provider name or id')
    .action(
      run(async (ctx, [provider]) => {
        ctx.printList(
          await ctx.client().all<ApiObject>(await base(ctx, provider!)),
          PROVIDER_PROFILE_COLUMNS,
        );
      }),
    );
  const create = cmd
    .command('create')
    .argument('<provider>', 'provider name or id')
    .option('-f, --file <file>', 'the body as JSON or YAML');
  for (const f of PROVIDER_PROFILE_FLAGS) create.addOption(optionOf(f));
  create.action(
    run(async (ctx, [provider], opts) => {
      const path = await base(ctx, provider!);
      ctx.printObject(
        await ctx.client().post<ApiObject>(path, await buildBody(ctx, PROVIDER_PROFILE_FLAGS, opts)),
      );
    }),
  );
  cmd
    .command('delete')
    .argument('<provider>', 'provider name or id')
    .argument('<profile>', 'profile name or id')
    .action(
      run(async (ctx, [provider, profile]) => {
        const path = await base(ctx, provider!);
        const id = await ctx.resolveId({ path, label: 'provider profile', global: true }, profile!);
        await ctx.client().delete(`${path}/${id}`);
        ctx.printDone(`provider profile ${profile} deleted`, { id, deleted: true });
      }),
    );
  return cmd;
}

export function resourceCommands(make: ContextFactory, setExit: (n: number) => void): Command[] {
  return RESOURCES.map((def) => {
    const cmd = resourceCommand(def, make, setExit);
    if (def.command === 'provider') cmd.addCommand(providerProfileCommand(make, setExit));
    if (def.command === 'appliance') cmd.addCommand(implementationCommand(make, setExit));
    return cmd;
  });
}
