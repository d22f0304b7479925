import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { EdgeClient, EdgeConnection, EdgeListener, EdgeOutcomes } from '@nephele/bus';
import {
  AgentAddresses,
  AgentCommand,
  AgentEvent,
  parseAgentEvent,
  signAgentMessage,
} from '@nephele/contracts';
import { createTestVhost, freePort, TestResource, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const run = promisify(execFile);

/** The agent as the `local` driver will run it: `node dist/apps/agent/main.js` with env only. */
class AgentProcess {
  output = '';
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  start(env: Record<string, string>): void {
    const child = spawn(process.execPath, [path.join(WORKSPACE_ROOT, 'dist/apps/agent/main.js')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.output += b.toString()));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    this.child = child;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited!;
  }
}

function command(over: Partial<AgentCommand> & { pidFile: string }): AgentCommand {
  const { pidFile, ...rest } = over;
  return {
    kind: 'command',
    action: 'start',
    requestId: 'r-start',
    epoch: 2,
    service: {
      name: 'svc',
      class: 'process',
      command: `echo $$ > ${pidFile}; exec sleep 300`,
      monitor: { intervalMs: 200, timeoutMs: 2000 },
    },
    ...rest,
  };
}

/**
 * The DPE's side of the agent protocol, run against a real agent process: heartbeats, a start
 * command answered over request/reply, a SIGKILLed service reported at once, a stale epoch refused,
 * a repeated request id answered with the first result.
 */
async function scenario(
  dpe: EdgeConnection,
  agent: AgentProcess,
  env: Record<string, string>,
  dir: string,
  /** The assembly's credential: commands are signed with it (Note [Agent identity]). */
  secret?: string,
) {
  const signed = (c: AgentCommand): AgentCommand => (secret ? signAgentMessage(secret, c) : c);
  const events: AgentEvent[] = [];
  const invalid: unknown[] = [];
  await dpe.receive(AgentAddresses.events('dep-1'), (m) => {
    const e = parseAgentEvent(m.body);
    if (e.ok) events.push(e.value);
    else invalid.push(m.body);
    return EdgeOutcomes.accept();
  });
  agent.start(env);
  const heartbeats = () => events.filter((e) => e.kind === 'heartbeat');
  await waitFor(() => heartbeats().length >= 2, { what: `heartbeats\n${agent.output}`, timeoutMs: 20_000 });
  const [h0, h1] = heartbeats() as any[];
  expect(h0).toMatchObject({ assemblyId: 'asm-1', deployableId: 'dep-1', services: {} });
  expect(h1.seq).toBeGreaterThan(h0.seq);

  const pidFile = path.join(dir, `svc-${Date.now()}.pid`);
  if (secret) {
    // Not signed with this assembly's credential: refused, nothing runs, the epoch does not move.
    const forged = await dpe.request(
      AgentAddresses.commands('asm-1'),
      command({ pidFile, requestId: 'r-forged', epoch: 1_000_000 }),
      { timeoutMs: 15_000 },
    );
    expect(forged.body).toMatchObject({ kind: 'command-refused', highestEpoch: 0 });
  }
  const start = signed(command({ pidFile }));
  const reply = await dpe.request(AgentAddresses.commands('asm-1'), start, { timeoutMs: 15_000 });
  expect(reply.body).toMatchObject({
    kind: 'service-status',
    assemblyId: 'asm-1',
    service: 'svc',
    state: 'running',
    requestId: 'r-start',
    epoch: 2,
    action: 'start',
  });
  await waitFor(() => heartbeats().some((h: any) => h.services.svc === 'running' && h.epoch === 2), {
    what: 'a heartbeat with the service running',
  });

  // The service process dies: the agent says so at once (it does not restart it).
  const pid = Number(await waitFor(() => readFile(pidFile, 'utf8').catch(() => '')));
  process.kill(pid, 'SIGKILL');
  await waitFor(() => events.some((e) => e.kind === 'service-status' && e.state === 'failed'), {
    what: 'the failure report',
  });
  expect(events.find((e) => e.kind === 'service-status' && e.state === 'failed')).toMatchObject({
    service: 'svc',
    action: 'monitor',
    reason: 'process killed by SIGKILL',
  });

  // A DPE of an older epoch cannot act.
  const stale = await dpe.request(
    AgentAddresses.commands('asm-1'),
    signed(command({ pidFile, requestId: 'r-stale', epoch: 1, action: 'stop' })),
    { timeoutMs: 15_000 },
  );
  expect(stale.body).toMatchObject({
    kind: 'command-refused',
    requestId: 'r-stale',
    epoch: 1,
    highestEpoch: 2,
  });

  // The same request id again: the first result, not a second start.
  const again = await dpe.request(AgentAddresses.commands('asm-1'), start, { timeoutMs: 15_000 });
  expect(again.body).toEqual(reply.body);

  // Without reply-to the result goes to the events address; bad input is refused, not fatal.
  await dpe.send(AgentAddresses.commands('asm-1'), { kind: 'command', action: 'explode' });
  await dpe.send(
    AgentAddresses.commands('asm-1'),
    signed(command({ pidFile, requestId: 'r-stop', epoch: 3, action: 'stop' })),
  );
  await waitFor(() => events.some((e) => e.kind === 'command-refused' && /invalid command/.test(e.reason)));
  await waitFor(() => events.some((e) => e.kind === 'service-status' && e.requestId === 'r-stop'));
  expect(events.find((e) => e.kind === 'service-status' && e.requestId === 'r-stop')).toMatchObject({
    state: 'stopped',
    epoch: 3,
  });
  expect(invalid).toEqual([]);
  expect(await agent.stop('SIGTERM')).toBe(0);
}

describe('agent process over the AMQP 1.0 edge', () => {
  let dir: string;
  beforeAll(async () => {
    await run(process.execPath, ['tools/build.mjs', 'agent'], { cwd: WORKSPACE_ROOT });
    dir = await mkdtemp(path.join(tmpdir(), 'nephele-agent-e2e-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('works in listen mode (all-in-one): SASL PLAIN with assembly id + secret from user data', async () => {
    const port = await freePort();
    const listener = new EdgeListener({
      port,
      host: '127.0.0.1',
      verify: (u, p) =>
        u === 'asm-1' && p === 'asm-1-secret'
          ? {
              name: u,
              mayAttach: (role, a) =>
                role === 'receive'
                  ? a === AgentAddresses.commands('asm-1')
                  : a === AgentAddresses.events('dep-1') || a.startsWith('reply.'),
            }
          : null,
    });
    await listener.start();
    const dpe = listener.connect('dpe-1');
    const agent = new AgentProcess();
    try {
      await scenario(
        dpe,
        agent,
        {
          AMQP10_URL: `amqp://127.0.0.1:${port}`,
          NEPHELE_USER_DATA: JSON.stringify({
            assemblyId: 'asm-1',
            deployableId: 'dep-1',
            agentSecret: 'asm-1-secret',
            heartbeatInterval: '200ms',
          }),
        },
        dir,
        'asm-1-secret',
      );
    } finally {
      await agent.stop('SIGKILL');
      await listener.close();
    }
  });

  it('works in broker mode (RabbitMQ AMQP 1.0 plugin)', async () => {
    const vhost: TestResource = await createTestVhost('agent');
    const dpe = new EdgeClient({ url: vhost.url, id: 'dpe-1' });
    const agent = new AgentProcess();
    try {
      await dpe.start();
      await scenario(
        dpe,
        agent,
        {
          AMQP10_URL: vhost.url,
          NEPHELE_ASSEMBLY_ID: 'asm-1',
          NEPHELE_DEPLOYABLE_ID: 'dep-1',
          NEPHELE_HEARTBEAT_INTERVAL: '200ms',
        },
        dir,
      );
    } finally {
      await agent.stop('SIGKILL');
      await dpe.close();
      await vhost.drop();
    }
  });
});
