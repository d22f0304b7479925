import { Command } from 'commander';
import { REFS } from './resource-defs';
import { queryString } from '../input/flags.util';
import { Column } from '../output/table.util';
import { action, ContextFactory } from './command.util';

/** An instance as the state-tracker shows it. */
export interface InstanceView {
  id: string;
  owner: string;
  pool: string | null;
  name: string | null;
  state: string;
  addresses: string[];
  lastSeen: string | null;
  reason: string | null;
}

const INSTANCE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'rebooting',
  'terminating',
  'terminated',
  'error',
];

const COLUMNS: Column<InstanceView>[] = [
  { header: 'id', value: (i) => i.id, max: 36 },
  { header: 'name', value: (i) => i.name },
  { header: 'state', value: (i) => i.state },
  { header: 'pool', value: (i) => i.pool, max: 36 },
  { header: 'addresses', value: (i) => i.addresses },
  { header: 'owner', value: (i) => i.owner, max: 50 },
  { header: 'last seen', value: (i) => i.lastSeen },
];

export function instancesCommand(make: ContextFactory, setExit: (n: number) => void): Command {
  return new Command('instances')
    .description('instances in the store (/v1/instances)')
    .option('--pool <name|id>', 'only this pool')
    .option('--state <state>', `only this state (${INSTANCE_STATES.join(', ')})`)
    .option('--owner <owner>', 'only this owner (deployable:<id>/<assembly>, group:<id>, …)')
    .action(
      action(make, setExit, async (ctx, _a, o) => {
        const pool = typeof o.pool === 'string' ? await ctx.resolveId(REFS.pool, o.pool) : undefined;
        const project = await ctx.projectId(false);
        const q = queryString({
          pool,
          state: o.state as string | undefined,
          owner: o.owner as string | undefined,
          project,
        });
        ctx.printList(await ctx.client().all<InstanceView>(`/v1/instances${q}`), COLUMNS);
      }),
    );
}
