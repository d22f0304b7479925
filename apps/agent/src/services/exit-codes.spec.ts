import { ServiceSpec } from '@nephele/contracts';
import { lsbResult } from './lsb.adapter';
import { ocfEnvironment, ocfResult } from './ocf.adapter';
import { systemctlArgs, systemdResult, unitOf } from './systemd.adapter';

const spec = (over: Partial<ServiceSpec>): ServiceSpec =>
  ({ name: 'web', class: 'ocf', monitor: { intervalMs: 1000, timeoutMs: 2000 }, ...over }) as ServiceSpec;

describe('OCF exit codes', () => {
  it.each([
    ['monitor', 0, 'running'],
    ['monitor', 7, 'stopped'],
    ['monitor', 8, 'running'],
    ['monitor', 9, 'failed'],
    ['monitor', 1, 'failed'],
    ['monitor', 5, 'failed'],
    ['monitor', 6, 'failed'],
    ['monitor', 42, 'failed'],
    ['start', 0, 'running'],
    ['start', 1, 'failed'],
    ['start', 7, 'failed'],
    ['stop', 0, 'stopped'],
    ['stop', 7, 'stopped'],
    ['stop', 1, 'failed'],
  ] as const)('%s exiting %i means %s', (action, code, state) => {
    const r = ocfResult(action, code);
    expect(r.state).toBe(state);
    expect(r.exitCode).toBe(code);
  });

  it('names the code in the reason', () => {
    expect(ocfResult('monitor', 5).reason).toBe('monitor: OCF_ERR_INSTALLED (5)');
  });

  it('passes parameters as OCF_RESKEY_*, with OCF_ROOT, the instance and the meta timeout', () => {
    const env = ocfEnvironment(
      spec({
        name: 'db:1',
        provider: 'heartbeat',
        type: 'Dummy',
        parameters: { state: '/tmp/s', fake: 'x' },
      }),
      '/usr/lib/ocf',
      3000,
    );
    expect(env).toMatchObject({
      OCF_ROOT: '/usr/lib/ocf',
      OCF_RESOURCE_INSTANCE: 'db_1',
      OCF_RESOURCE_TYPE: 'Dummy',
      OCF_RESOURCE_PROVIDER: 'heartbeat',
      OCF_RESKEY_state: '/tmp/s',
      OCF_RESKEY_fake: 'x',
      OCF_RESKEY_CRM_meta_timeout: '3000',
    });
  });
});

describe('LSB exit codes', () => {
  it.each([
    ['status', 0, 'running'],
    ['status', 1, 'failed'],
    ['status', 2, 'failed'],
    ['status', 3, 'stopped'],
    ['status', 4, 'failed'],
    ['status', 150, 'failed'],
    ['start', 0, 'running'],
    ['start', 1, 'failed'],
    ['stop', 0, 'stopped'],
    ['stop', 1, 'failed'],
  ] as const)('%s exiting %i means %s', (action, code, state) => {
    expect(lsbResult(action, code).state).toBe(state);
  });
});

describe('systemd', () => {
  it('builds systemctl command lines for the unit (type, else the service name)', () => {
    expect(systemctlArgs('start', unitOf(spec({ class: 'systemd', type: 'nginx.service' })))).toEqual([
      'start',
      'nginx.service',
    ]);
    expect(systemctlArgs('stop', unitOf(spec({ class: 'systemd' })))).toEqual(['stop', 'web']);
    expect(systemctlArgs('monitor', 'web')).toEqual(['is-active', 'web']);
  });

  it.each([
    [0, 'active', 'running'],
    [0, 'reloading', 'running'],
    [3, 'activating', 'running'],
    [3, 'inactive', 'stopped'],
    [3, 'deactivating', 'stopped'],
    [3, 'failed', 'failed'],
    [4, 'unknown', 'failed'],
  ] as const)('is-active exiting %i printing %s means %s', (exitCode, output, state) => {
    expect(systemdResult('monitor', { exitCode, output }).state).toBe(state);
  });

  it('maps start/stop exit codes', () => {
    expect(systemdResult('start', { exitCode: 0, output: '' }).state).toBe('running');
    expect(systemdResult('stop', { exitCode: 0, output: '' }).state).toBe('stopped');
    expect(systemdResult('start', { exitCode: 5, output: 'Unit x.service not found.' })).toMatchObject({
      state: 'failed',
      exitCode: 5,
      reason: 'start: failed (5): Unit x.service not found.',
    });
  });
});
