import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface QueueCounts {
  name: string;
  ready: number;
  unacked: number;
  consumers: number;
}

export interface Binding {
  exchange: string;
  queue: string;
  key: string;
}

async function ctl(args: string[]): Promise<string[][]> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args, '--no-table-headers'], { timeout: 30_000 });
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split('\t'));
}

/** Every queue of a vhost with its ready and unacknowledged counts (`rabbitmqctl list_queues`). */
export async function listQueues(vhost: string): Promise<QueueCounts[]> {
  const rows = await ctl([
    'list_queues',
    '-p',
    vhost,
    'name',
    'messages_ready',
    'messages_unacknowledged',
    'consumers',
  ]);
  return rows.map(([name, ready, unacked, consumers]) => ({
    name: name!,
    ready: Number(ready),
    unacked: Number(unacked),
    consumers: Number(consumers),
  }));
}

/** Queue bindings of the topic exchanges of a vhost (`rabbitmqctl list_bindings`). */
export async function listBindings(vhost: string): Promise<Binding[]> {
  const rows = await ctl([
    'list_bindings',
    '-p',
    vhost,
    'source_name',
    'destination_kind',
    'destination_name',
    'routing_key',
  ]);
  return rows
    .filter(([source, kind]) => source && kind === 'queue')
    .map(([exchange, , queue, key]) => ({ exchange: exchange!, queue: queue!, key: key! }));
}
