import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceSpec } from '@nephele/contracts';
import { waitFor } from '@nephele/testing';
import { LsbAdapter } from './lsb.adapter';
import { OcfAdapter } from './ocf.adapter';
import { ProcessAdapter } from './process.adapter';
import { ActionResult } from './service-adapter.types';

const monitor = { intervalMs: 0, timeoutMs: 5000 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'nephele-agent-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe(ProcessAdapter.name, () => {
  const exits: { service: string; result: ActionResult }[] = [];
  const sut = new ProcessAdapter((service, result) => exits.push({ service, result }));
  afterAll(() => sut.stopAll(1000));

  it('starts a process in its own group, sees it alive, and reports a SIGKILL at once', async () => {
    const spec: ServiceSpec = { name: 'sleeper', class: 'process', command: 'exec sleep 300', monitor };
    expect(await sut.start(spec)).toMatchObject({ state: 'running' });
    const pid = sut.pidOf('sleeper')!;
    expect(await sut.monitor(spec)).toMatchObject({ state: 'running' });
    expect(await sut.start(spec)).toMatchObject({ state: 'running', reason: 'already running' });
    process.kill(pid, 'SIGKILL');
    await waitFor(() => exits.length === 1, { what: 'the exit report' });
    expect(exits[0]).toEqual({
      service: 'sleeper',
      result: { state: 'failed', reason: 'process killed by SIGKILL' },
    });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'failed' });
    expect(await sut.stop(spec)).toMatchObject({ state: 'stopped' });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'stopped', reason: 'not running' });
  });

  it('stops the whole group: SIGTERM, then SIGKILL after the stop timeout', async () => {
    const pidFile = path.join(dir, 'grandchild.pid');
    // The shell ignores SIGTERM and has a child of its own: both must be gone after stop.
    const spec: ServiceSpec = {
      name: 'stubborn',
      class: 'process',
      command: `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`,
      monitor,
      stopTimeoutMs: 300,
    };
    expect(await sut.start(spec)).toMatchObject({ state: 'running' });
    const leader = sut.pidOf('stubborn')!;
    const grandchild = Number(await waitFor(() => readFile(pidFile, 'utf8').catch(() => '')));
    const r = await sut.stop(spec);
    expect(r).toMatchObject({ state: 'stopped' });
    expect(r.reason).toMatch(/did not stop within 300 ms; killed|stopped/);
    await waitFor(() => !alive(leader) && !alive(grandchild), { what: 'the group to be gone' });
    expect(exits.filter((e) => e.service === 'stubborn')).toEqual([]);
  });

  it('waits for TCP and HTTP checks at start and fails the monitor when they fail', async () => {
    const server: Server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 500).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const spec: ServiceSpec = {
      name: 'web',
      class: 'process',
      command: 'exec sleep 300',
      monitor: {
        intervalMs: 0,
        timeoutMs: 1000,
        tcp: { port },
        http: { url: `http://127.0.0.1:${port}/health` },
      },
    };
    expect(await sut.start(spec)).toMatchObject({ state: 'running' });
    const bad = { ...spec, monitor: { ...spec.monitor, http: { url: `http://127.0.0.1:${port}/other` } } };
    expect(await sut.monitor(bad)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/status 500/),
    });
    await new Promise((r) => server.close(r));
    server.closeAllConnections();
    expect(await sut.monitor(spec)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/ECONNREFUSED/),
    });
    await sut.stop(spec);
  });

  it('reports a command that cannot run, and one that exits at once', async () => {
    const missing: ServiceSpec = {
      name: 'missing',
      class: 'process',
      command: '/nonexistent/bin',
      args: [],
      monitor,
    };
    expect(await sut.start(missing)).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/ENOENT/),
    });
    const quick: ServiceSpec = { name: 'quick', class: 'process', command: 'exit 3', monitor };
    await sut.start(quick);
    await waitFor(() => exits.some((e) => e.service === 'quick'), { what: 'the exit of quick' });
    expect(exits.find((e) => e.service === 'quick')!.result).toEqual({
      state: 'failed',
      reason: 'process exited with code 3',
      exitCode: 3,
    });
  });
});

describe(`${ProcessAdapter.name} across an agent restart`, () => {
  const spec = (name: string): ServiceSpec => ({
    name,
    class: 'process',
    command: 'exec sleep 300',
    monitor,
  });
  const exits: { service: string; result: ActionResult }[] = [];
  let stateDir: string;
  let first: ProcessAdapter;
  let second: ProcessAdapter;
  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), 'nephele-agent-state-'));
  });
  afterAll(async () => {
    await second?.stopAll(1000);
    await first?.stopAll(1000);
    // Their last state writes land before the directory goes.
    await Promise.all([first?.flushed(), second?.flushed()]);
    await rm(stateDir, { recursive: true, force: true, maxRetries: 3 });
  });

  it('adopts the processes the crashed run started instead of starting them twice', async () => {
    // The first run records into its own directory; the second reads a copy of it, so the
    // first (still alive in this test process) cannot write over what the second writes.
    const firstDir = path.join(stateDir, 'first');
    first = new ProcessAdapter(() => undefined, firstDir);
    await first.start(spec('web'));
    await first.start(spec('worker'));
    const pids = { web: first.pidOf('web')!, worker: first.pidOf('worker')! };
    await first.flushed();
    // A record whose pid now names another process (this test runner) is not adopted.
    const file = path.join(stateDir, 'process-services.json');
    const recorded = JSON.parse(await readFile(path.join(firstDir, 'process-services.json'), 'utf8'));
    expect(Object.keys(recorded).sort()).toEqual(['web', 'worker']);
    await writeFile(file, JSON.stringify({ ...recorded, reused: { pid: process.pid, startTicks: '1' } }));

    // The agent "crashes" (first is dropped without stopping anything) and comes back.
    second = new ProcessAdapter((service, result) => exits.push({ service, result }), stateDir);
    expect((await second.adopt()).sort()).toEqual(['web', 'worker']);
    expect(second.pidOf('web')).toBe(pids.web);
    expect(await second.monitor(spec('web'))).toMatchObject({ state: 'running' });
    expect(await second.start(spec('web'))).toMatchObject({ state: 'running', reason: 'already running' });
    expect(second.pidOf('web')).toBe(pids.web);
    expect(await second.monitor(spec('reused'))).toMatchObject({ state: 'stopped' });

    // An adopted process that dies is reported (its status is unknown: it was not our child)...
    process.kill(pids.worker, 'SIGKILL');
    await waitFor(() => exits.length === 1, { what: 'the adopted exit report' });
    expect(exits[0]).toMatchObject({ service: 'worker', result: { state: 'failed' } });
    // ...and one that is stopped goes, group and all.
    expect(await second.stop(spec('web'))).toMatchObject({ state: 'stopped' });
    expect(() => process.kill(pids.web, 0)).toThrow();
    await second.flushed();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({});
  });
});

describe(LsbAdapter.name, () => {
  it('runs an init script and maps LSB exit codes', async () => {
    const pidFile = path.join(dir, 'lsbsvc.pid');
    const script = `#!/bin/sh
PIDFILE=${pidFile}
case "$1" in
  start)
    if [ -f $PIDFILE ] && kill -0 $(cat $PIDFILE) 2>/dev/null; then exit 0; fi
    setsid sleep 300 >/dev/null 2>&1 < /dev/null &
    echo $! > $PIDFILE
    exit 0 ;;
  stop)
    if [ -f $PIDFILE ]; then kill $(cat $PIDFILE) 2>/dev/null; rm -f $PIDFILE; fi
    exit 0 ;;
  status)
    if [ ! -f $PIDFILE ]; then exit 3; fi
    if kill -0 $(cat $PIDFILE) 2>/dev/null; then exit 0; fi
    exit 1 ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
`;
    await writeFile(path.join(dir, 'lsbsvc'), script);
    await chmod(path.join(dir, 'lsbsvc'), 0o755);
    const sut = new LsbAdapter(dir);
    const spec: ServiceSpec = { name: 'lsb-svc', class: 'lsb', type: 'lsbsvc', monitor };
    expect(await sut.monitor(spec)).toMatchObject({ state: 'stopped', exitCode: 3 });
    expect(await sut.start(spec)).toMatchObject({ state: 'running', exitCode: 0 });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'running', exitCode: 0 });
    const pid = Number(await readFile(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid));
    expect(await sut.monitor(spec)).toMatchObject({ state: 'failed', exitCode: 1 });
    expect(await sut.stop(spec)).toMatchObject({ state: 'stopped', exitCode: 0 });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'stopped' });
    expect(await sut.monitor({ ...spec, type: 'absent' })).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/could not run.*ENOENT/),
    });
  });
});

describe(OcfAdapter.name, () => {
  it('drives the real heartbeat:Dummy resource agent with OCF_RESKEY_state', async () => {
    const sut = new OcfAdapter('/usr/lib/ocf');
    const state = path.join(dir, 'dummy.state');
    const spec: ServiceSpec = {
      name: 'dummy',
      class: 'ocf',
      provider: 'heartbeat',
      type: 'Dummy',
      parameters: { state },
      monitor: { intervalMs: 0, timeoutMs: 20_000 },
    };
    expect(await sut.monitor(spec)).toMatchObject({ state: 'stopped', exitCode: 7 });
    expect(await sut.start(spec)).toMatchObject({ state: 'running', exitCode: 0 });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'running', exitCode: 0 });
    await rm(state); // what a crash looks like to Dummy
    expect(await sut.monitor(spec)).toMatchObject({
      state: 'stopped',
      exitCode: 7,
      reason: 'monitor: OCF_NOT_RUNNING (7)',
    });
    expect(await sut.start(spec)).toMatchObject({ state: 'running' });
    expect(await sut.stop(spec)).toMatchObject({ state: 'stopped', exitCode: 0 });
    expect(await sut.monitor(spec)).toMatchObject({ state: 'stopped', exitCode: 7 });
  });

  it('fails cleanly for an agent that is not installed', async () => {
    const sut = new OcfAdapter('/usr/lib/ocf');
    const r = await sut.start({
      name: 'x',
      class: 'ocf',
      provider: 'heartbeat',
      type: 'NoSuchAgent',
      monitor,
    });
    expect(r).toMatchObject({ state: 'failed', reason: expect.stringMatching(/could not run/) });
  });
});
