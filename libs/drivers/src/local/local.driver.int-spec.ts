import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '@nephele/testing';
import { DriverError } from '../driver.errors';
import { createDriver } from '../driver.registry';
import { LocalDriver, parseLocalDriverConfig } from './local.driver';
import { groupMembers, instanceMembers, readProcStat } from './proc.util';

// Real processes: every instance here is a process tree this test spawns and the driver kills.

const node = process.execPath;
/** Writes its env and pid into its cwd (the instance dir), says hello on stdout, then idles. */
const agentScript = `
const fs = require('fs');
fs.writeFileSync('env.json', JSON.stringify(process.env));
fs.writeFileSync('pid', String(process.pid));
console.log('hello from ' + process.env.NEPHELE_INSTANCE_NAME);
setInterval(() => {}, 1000);
`;

const images = {
  agent: { command: [node, '-e', agentScript], env: { AGENT_MODE: 'test' } },
  sleeper: { command: ['sleep', '1000'] },
  tree: { command: ['sh', '-c', 'sleep 1000 & sleep 1000'] },
  stubborn: { command: ['sh', '-c', 'trap "" TERM; sleep 1000 & sleep 1000'] },
  oneshot: { command: ['true'] },
  // A child in a session of its own (as an agent's services are): it leaves the instance's group.
  escapee: { command: ['sh', '-c', 'setsid sleep 1001 & exec sleep 1000'] },
  missing: { command: ['/nonexistent/program'] },
};

function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return !!st && st.state !== 'Z';
}

function pidOf(sut: LocalDriver, id: string): number {
  const rec = JSON.parse(readFileSync(path.join(sut.instanceDir(id), 'instance.json'), 'utf8'));
  return rec.process.pid as number;
}

describe(LocalDriver.name, () => {
  let stateDir: string;
  let sut: LocalDriver;

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'nephele-local-driver-'));
    sut = new LocalDriver(
      parseLocalDriverConfig({ images, stateDir, stopGraceMs: 300 }, { dataDir: stateDir }),
    );
  });

  afterEach(async () => {
    for (const inst of await sut.list()) await sut.destroy(inst.id).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('creates a running process that learns its identity from the environment and logs its output', async () => {
    const inst = await sut.create({
      idempotencyKey: 'k-agent',
      name: 'web-1',
      image: 'agent',
      profile: 'local',
      userData: '#!/bin/sh\necho hi',
      metadata: { owner: 'alice', 'deployable-id': 'd1' },
    });
    expect(inst).toMatchObject({
      name: 'web-1',
      state: 'running',
      addresses: ['127.0.0.1'],
      image: 'agent',
      idempotencyKey: 'k-agent',
    });

    const envFile = path.join(sut.instanceDir(inst.id), 'env.json');
    await waitFor(() => existsSync(envFile), { what: 'the instance to write env.json' });
    const env = JSON.parse(readFileSync(envFile, 'utf8'));
    expect(env).toMatchObject({
      NEPHELE_INSTANCE_ID: inst.id,
      NEPHELE_INSTANCE_NAME: 'web-1',
      NEPHELE_USER_DATA: '#!/bin/sh\necho hi',
      NEPHELE_META_OWNER: 'alice',
      NEPHELE_META_DEPLOYABLE_ID: 'd1',
      NEPHELE_PROVIDER_ID: 'local',
      AGENT_MODE: 'test',
    });
    expect(env.NEPHELE_MASTER_KEY).toBeUndefined();
    await waitFor(() => readFileSync(sut.logPath(inst.id), 'utf8').includes('hello from web-1'), {
      what: 'stdout in the log',
    });

    expect((await sut.get(inst.id))?.state).toBe('running');
    expect(await sut.listImages()).toEqual(
      expect.arrayContaining([{ id: 'agent', name: 'agent', status: 'active' }]),
    );
    expect((await sut.listHardwareProfiles())[0]).toMatchObject({ id: 'local' });
  });

  it('gives each instance a loopback address of its own with addressPerInstance', async () => {
    const own = new LocalDriver(
      parseLocalDriverConfig({ images, stateDir, addressPerInstance: true }, { dataDir: stateDir }),
    );
    const [x, y] = await Promise.all(
      ['k-own-1', 'k-own-2'].map((k) =>
        own.create({ idempotencyKey: k, name: k, image: 'agent', profile: 'local' }),
      ),
    );
    expect(x!.addresses[0]).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(x!.addresses[0]).not.toBe('127.0.0.1');
    expect(y!.addresses[0]).not.toBe(x!.addresses[0]);
    expect((await own.get(x!.id))?.addresses).toEqual(x!.addresses);
    const envFile = path.join(own.instanceDir(x!.id), 'env.json');
    await waitFor(() => existsSync(envFile), { what: 'the instance to write env.json' });
    expect(JSON.parse(readFileSync(envFile, 'utf8')).NEPHELE_INSTANCE_ADDRESS).toBe(x!.addresses[0]);
    for (const i of [x!, y!]) await own.destroy(i.id);
  });

  it('shows a process killed with SIGKILL as stopped and keeps its record', async () => {
    const inst = await sut.create({ idempotencyKey: 'k1', name: 'a', image: 'sleeper', profile: 'local' });
    const before = await sut.get(inst.id);
    process.kill(pidOf(sut, inst.id), 'SIGKILL');
    await waitFor(async () => (await sut.get(inst.id))?.state === 'stopped', { what: 'stopped' });
    const listed = await sut.list();
    expect(listed.map((i) => [i.id, i.state])).toEqual([[inst.id, 'stopped']]);
    // The death is a change: list({since}) after the create still reports it.
    expect((await sut.list({ since: before!.updatedAt })).map((i) => i.id)).toEqual([inst.id]);
  });

  it('shows a process that exits by itself as stopped', async () => {
    const inst = await sut.create({ idempotencyKey: 'k1', name: 'a', image: 'oneshot', profile: 'local' });
    await waitFor(async () => (await sut.get(inst.id))?.state === 'stopped', { what: 'stopped' });
  });

  it('lets a new driver over the same state dir list and destroy what an earlier one launched', async () => {
    const a = await sut.create({ idempotencyKey: 'k1', name: 'a', image: 'sleeper', profile: 'local' });
    const b = await sut.create({ idempotencyKey: 'k2', name: 'b', image: 'sleeper', profile: 'local' });
    const pidA = pidOf(sut, a.id);
    await sut.close();

    const restarted = createDriver('local', { images, stateDir, stopGraceMs: 300 }, undefined);
    const listed = await restarted.list();
    expect(listed.map((i) => [i.id, i.state]).sort()).toEqual(
      [
        [a.id, 'running'],
        [b.id, 'running'],
      ].sort(),
    );
    await restarted.destroy(a.id);
    expect(alive(pidA)).toBe(false);
    expect(await restarted.get(a.id)).toBeNull();
    expect((await restarted.list()).map((i) => i.id)).toEqual([b.id]);
    // Idempotency survives the restart too.
    expect(
      (await restarted.create({ idempotencyKey: 'k2', name: 'b', image: 'sleeper', profile: 'local' })).id,
    ).toBe(b.id);
  });

  it('never makes a second instance for the same idempotency key, even concurrently or after destroy', async () => {
    const req = { idempotencyKey: 'same', name: 'a', image: 'sleeper', profile: 'local' };
    const [x, y, z] = await Promise.all([sut.create(req), sut.create(req), sut.create(req)]);
    expect(new Set([x.id, y.id, z.id]).size).toBe(1);
    // Another driver object (as another process would) sees the claim on disk.
    const other = new LocalDriver(parseLocalDriverConfig({ images, stateDir }, { dataDir: stateDir }));
    expect((await other.create(req)).id).toBe(x.id);
    expect(await sut.list()).toHaveLength(1);

    await sut.destroy(x.id);
    const again = await sut.create(req);
    expect(again).toMatchObject({ id: x.id, state: 'terminated' });
    expect(await sut.list()).toHaveLength(0);
  });

  it('kills the whole process group on destroy, children included', async () => {
    const inst = await sut.create({ idempotencyKey: 'k1', name: 'tree', image: 'tree', profile: 'local' });
    const pgid = pidOf(sut, inst.id);
    const members = await waitFor(
      () => {
        const m = groupMembers(pgid, 0);
        return m.length === 3 ? m : null;
      },
      { what: 'sh and its two sleeps' },
    );
    expect(members.filter((m) => m.pid !== pgid)).toHaveLength(2);

    await sut.destroy(inst.id);
    for (const m of members) expect(alive(m.pid)).toBe(false);
    expect(existsSync(sut.instanceDir(inst.id))).toBe(false);
  });

  it('kills children that left the process group, even after the leader died', async () => {
    const inst = await sut.create({
      idempotencyKey: 'k-esc',
      name: 'esc',
      image: 'escapee',
      profile: 'local',
    });
    const leader = pidOf(sut, inst.id);
    const escaped = await waitFor(() => instanceMembers(inst.id, 0).find((m) => m.pgrp !== leader), {
      what: 'the child in its own session',
    });
    process.kill(leader, 'SIGKILL');
    await waitFor(async () => (await sut.get(inst.id))?.state === 'stopped', { what: 'stopped' });
    expect(alive(escaped.pid)).toBe(true);
    await sut.destroy(inst.id);
    expect(alive(escaped.pid)).toBe(false);
  });

  it('escalates to SIGKILL when the tree ignores SIGTERM', async () => {
    const inst = await sut.create({
      idempotencyKey: 'k1',
      name: 'stubborn',
      image: 'stubborn',
      profile: 'local',
    });
    const pgid = pidOf(sut, inst.id);
    const members = await waitFor(
      () => {
        const m = groupMembers(pgid, 0);
        return m.length === 3 ? m : null;
      },
      { what: 'the tree' },
    );
    await sut.destroy(inst.id);
    for (const m of members) expect(alive(m.pid)).toBe(false);
  });

  it('stops, starts and reboots', async () => {
    const inst = await sut.create({ idempotencyKey: 'k1', name: 'a', image: 'tree', profile: 'local' });
    const first = pidOf(sut, inst.id);
    await sut.stop(inst.id);
    expect((await sut.get(inst.id))?.state).toBe('stopped');
    expect(groupMembers(first, 0)).toHaveLength(0);
    await sut.stop(inst.id); // already stopped: no-op

    await sut.start(inst.id);
    expect((await sut.get(inst.id))?.state).toBe('running');
    const second = pidOf(sut, inst.id);
    expect(second).not.toBe(first);
    await sut.start(inst.id); // already running: no-op
    expect(pidOf(sut, inst.id)).toBe(second);

    await sut.reboot(inst.id);
    const third = pidOf(sut, inst.id);
    expect(third).not.toBe(second);
    expect(alive(second)).toBe(false);
    expect((await sut.get(inst.id))?.state).toBe('running');
  });

  it('answers with typed errors', async () => {
    const bad = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: unknown) => e as DriverError,
      );
    expect(
      await bad(sut.create({ idempotencyKey: 'k', name: 'a', image: 'nope', profile: 'local' })),
    ).toMatchObject({ kind: 'permanent' });
    expect(
      await bad(sut.create({ idempotencyKey: 'k', name: 'a', image: 'sleeper', profile: 'huge' })),
    ).toMatchObject({ kind: 'permanent' });
    expect(
      await bad(sut.create({ idempotencyKey: 'k2', name: 'a', image: 'missing', profile: 'local' })),
    ).toMatchObject({ kind: 'permanent' });
    expect(await sut.list()).toHaveLength(0);
    expect(await bad(sut.destroy('00000000-0000-0000-0000-000000000000'))).toMatchObject({
      kind: 'not-found',
    });
    expect(await bad(sut.stop('../../etc'))).toMatchObject({ kind: 'not-found' });
    expect(await sut.get('00000000-0000-0000-0000-000000000000')).toBeNull();
    expect(() => createDriver('local', { images: { x: { command: [] } } }, undefined)).toThrow(DriverError);
  });
});
