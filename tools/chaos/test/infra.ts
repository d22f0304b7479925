import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { Topology } from '@nephele/contracts';
import { advisoryKey } from '@nephele/persistence';
import { waitFor } from '@nephele/testing';

const run = promisify(execFile);

// Note [Chaos infrastructure]
// The broker and the database are the machine's own (the chaos tier runs last and alone in CI).
// Restarting them is what an operator or a crash would do: RabbitMQ's application is stopped and
// started again inside its running node (`rabbitmqctl stop_app && start_app`: every connection
// drops, durable queues and persistent messages survive), PostgreSQL is restarted by its cluster
// tool. Both are started again in a `finally`, whatever happened, and the scenario waits until
// each answers before it goes on.

export async function rabbitmqctl(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: timeoutMs });
  return stdout;
}

/** Waits until RabbitMQ accepts an AMQP connection to `url` (a vhost). */
export async function untilBrokerAnswers(url: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const c = await amqp.connect(url);
      c.on('error', () => undefined);
      await c.close();
      return true;
    },
    { timeoutMs, intervalMs: 250, what: 'RabbitMQ to accept connections again' },
  );
}

/** `rabbitmqctl stop_app`, a pause, `start_app` (always, even when stopping failed). */
export async function restartBroker(url: string, downMs: number): Promise<void> {
  try {
    await rabbitmqctl(['stop_app']);
    await new Promise((r) => setTimeout(r, downMs));
  } finally {
    await rabbitmqctl(['start_app'], 120_000);
    await untilBrokerAnswers(url);
  }
}

/** Makes sure RabbitMQ's application runs (teardown safety net). */
export async function ensureBrokerRunning(): Promise<void> {
  await rabbitmqctl(['start_app'], 120_000).catch(() => undefined);
}

function pgCluster(): string {
  return readdirSync('/etc/postgresql').sort()[0]!;
}

async function pgctl(action: 'restart' | 'start'): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', pgCluster(), 'main', action], {
    timeout: 120_000,
  });
}

/** Waits until PostgreSQL answers a query on `pool`. */
export async function untilDatabaseAnswers(pool: Pool, timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => (await pool.query('SELECT 1 AS ok')).rows[0].ok === 1, {
    timeoutMs,
    intervalMs: 250,
    what: 'PostgreSQL to answer again',
  });
}

/** Restarts the PostgreSQL cluster; starts it in any case; waits until it answers. */
export async function restartDatabase(pool: Pool): Promise<void> {
  try {
    await pgctl('restart');
  } finally {
    await pgctl('start').catch(() => undefined); // already running after a good restart
    await untilDatabaseAnswers(pool);
  }
}

export async function ensureDatabaseRunning(): Promise<void> {
  await pgctl('start').catch(() => undefined);
}

export interface QueueRow {
  name: string;
  ready: number;
  unacked: number;
  consumers: number;
}

export async function listQueues(vhost: string): Promise<QueueRow[]> {
  const out = await rabbitmqctl([
    'list_queues',
    '-p',
    vhost,
    'name',
    'messages_ready',
    'messages_unacknowledged',
    'consumers',
    '-q',
    '--no-table-headers',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [name, ready, unacked, consumers] = l.split('\t');
      return { name: name!, ready: Number(ready), unacked: Number(unacked), consumers: Number(consumers) };
    });
}

/** The dead-letter reasons of up to `max` messages of a DLQ (left in place: the channel closes unacked). */
export async function peekDeadLetters(url: string, queue: string, max = 20): Promise<string[]> {
  const conn = await amqp.connect(url);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    const reasons: string[] = [];
    for (let i = 0; i < max; i++) {
      const m = await ch.get(queue, { noAck: false });
      if (!m) break;
      const h = m.properties.headers ?? {};
      reasons.push(
        `${String(m.properties.type ?? '?')} from ${String(h[Topology.deadLetterQueueHeader] ?? '?')}: ${String(
          h[Topology.deadLetterReasonHeader] ?? '(no reason)',
        ).slice(0, 300)}`,
      );
    }
    return reasons;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** A process is alive when it exists, is not a zombie and (if given) started at `startTicks`. */
export function processAlive(pid: number, startTicks?: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return false;
    return startTicks === undefined || Number(rest[19]) === startTicks;
  } catch {
    return false;
  }
}

export interface LocalRecord {
  id: string;
  idempotencyKey: string;
  metadata: Record<string, string>;
  process?: { pid: number; pgid: number; startTicks: number };
}

/** What the `local` driver has on disk for one provider (Note [Local instances]). */
export function localRecords(dataDir: string, providerId: string): LocalRecord[] {
  const root = path.join(dataDir, 'local-driver', providerId, 'instances');
  let ids: string[] = [];
  try {
    ids = readdirSync(root);
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      return [JSON.parse(readFileSync(path.join(root, id, 'instance.json'), 'utf8')) as LocalRecord];
    } catch {
      return [];
    }
  });
}

export const recordAlive = (r: LocalRecord): boolean =>
  !!r.process && processAlive(r.process.pid, r.process.startTicks);

/** Pids whose command line contains `needle` (like `pgrep -f`, without its own process). */
export function pgrep(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && processAlive(Number(d))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/**
 * Which of `candidates` (pids) holds the CPE's leader lock (Note [Leadership]): PostgreSQL says
 * which session holds the advisory lock and from which client port; /proc says which process owns
 * that socket.
 */
export async function cpeLeaderPid(pool: Pool, candidates: number[]): Promise<number | undefined> {
  const { rows } = await pool.query<{ client_port: number }>(
    `SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::int8 << 32) | l.objid::int8) = $1::int8`,
    [advisoryKey('nephele-cpe-leader')],
  );
  if (rows.length !== 1 || !rows[0]!.client_port) return undefined;
  const port = rows[0]!.client_port;
  const inodes = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && parseInt(cols[1]!.split(':').pop()!, 16) === port) inodes.add(cols[9]!);
    }
  }
  for (const pid of candidates) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return undefined;
}
