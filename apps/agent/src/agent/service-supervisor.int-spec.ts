import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceSpec } from '@nephele/contracts';
import { waitFor } from '@nephele/testing';
import { createServiceAdapters } from '../services/service-adapters';
import { MonitorReport, ServiceSupervisor } from './service-supervisor';

describe(ServiceSupervisor.name, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nephele-supervisor-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs a recurring monitor on an OCF service and reports its failure at once, without restarting it', async () => {
    const adapters = createServiceAdapters({
      ocfRoot: '/usr/lib/ocf',
      lsbDir: dir,
      onProcessExit: () => undefined,
    });
    const sut = new ServiceSupervisor(adapters.byClass);
    const reports: MonitorReport[] = [];
    sut.onReport((r) => reports.push(r));
    const state = path.join(dir, 'd.state');
    const spec: ServiceSpec = {
      name: 'dummy',
      class: 'ocf',
      provider: 'heartbeat',
      type: 'Dummy',
      parameters: { state },
      monitor: { intervalMs: 100, timeoutMs: 10_000 },
    };
    expect(await sut.run('start', spec)).toMatchObject({ state: 'running' });
    expect(sut.states()).toEqual({ dummy: 'running' });
    await rm(state);
    await waitFor(() => reports.length === 1, { what: 'the monitor to notice' });
    expect(reports[0]).toMatchObject({ service: 'dummy', state: 'failed', exitCode: 7 });
    expect(reports[0]!.reason).toMatch(/not running: monitor: OCF_NOT_RUNNING/);
    expect(sut.states()).toEqual({ dummy: 'failed' });
    expect(await sut.run('stop', spec)).toMatchObject({ state: 'stopped' });
    // A probe of a stopped service reports, but does not adopt it.
    expect(await sut.run('monitor', spec)).toMatchObject({ state: 'stopped' });
    sut.close();
    expect(reports).toHaveLength(1);
  });
});
