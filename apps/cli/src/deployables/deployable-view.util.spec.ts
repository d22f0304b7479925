import {
  DeployableView,
  elapsedPrefix,
  progressLine,
  renderStatus,
  statusRows,
  watchVerdict,
} from './deployable-view.util';

const view = (over: Partial<DeployableView> = {}): DeployableView => ({
  id: '33852be1-5945-42eb-867b-671bfe1e4726',
  name: 'shop',
  version: 2,
  desired: 'started',
  status: 'degraded',
  reason: 'web1/httpd failed twice',
  assemblies: [
    {
      name: 'db1',
      state: 'online',
      instanceId: 'i-1',
      addresses: ['10.0.0.5'],
      services: [
        { name: 'store', state: 'running' },
        { name: 'backup', state: 'stopped' },
      ],
    },
    { name: 'web1', state: 'pending', services: [{ name: 'httpd', state: 'failed' }] },
  ],
  ...over,
});

describe('deployable status', () => {
  it('shows one line per service, the assembly columns on its first line only', () => {
    expect(renderStatus(view()).split('\n')).toEqual([
      'deployable shop (33852be1-5945-42eb-867b-671bfe1e4726)  version 2  desired started',
      'status: degraded (web1/httpd failed twice)',
      '',
      'ASSEMBLY  STATE    INSTANCE  ADDRESSES  SERVICE  SERVICE STATE',
      'db1       online   i-1       10.0.0.5   store    running',
      '                                        backup   stopped',
      'web1      pending  -         -          httpd    failed',
    ]);
  });

  it("shows each service's group in a column when some service is in one", () => {
    const grouped = view({
      assemblies: [
        {
          name: 'web1',
          state: 'online',
          services: [
            { name: 'web1/httpd', state: 'running', group: 'web' },
            { name: 'web1/cache', state: 'running', group: 'web' },
            { name: 'web1/cron', state: 'running' },
          ],
        },
      ],
    });
    expect(renderStatus(grouped).split('\n').slice(3)).toEqual([
      'ASSEMBLY  STATE   INSTANCE  ADDRESSES  SERVICE  GROUP  SERVICE STATE',
      'web1      online  -         -          httpd    web    running',
      '                                       cache    web    running',
      '                                       cron     -      running',
    ]);
  });

  it('shows each clone instance with its assembly and a clone column when some service is one', () => {
    const cloned = view({
      assemblies: ['a1', 'a2', 'a3'].map((a) => ({
        name: a,
        state: a === 'a2' ? 'pending' : 'online',
        services: [{ name: `${a}/web`, state: a === 'a2' ? 'stopped' : 'running', clone: 'web' }],
      })),
    });
    expect(renderStatus(cloned).split('\n').slice(3)).toEqual([
      'ASSEMBLY  STATE    INSTANCE  ADDRESSES  SERVICE  CLONE  SERVICE STATE',
      'a1        online   -         -          web      web    running',
      'a2        pending  -         -          web      web    stopped',
      'a3        online   -         -          web      web    running',
    ]);
  });

  it('says so when nothing is observed yet', () => {
    expect(renderStatus(view({ assemblies: [], status: 'starting', reason: null }))).toContain(
      'no assemblies observed yet',
    );
    expect(statusRows(view({ assemblies: [{ name: 'a1', state: 'pending' }] }))).toEqual([
      { first: true, assembly: 'a1', assemblyState: 'pending', instance: undefined, addresses: undefined },
    ]);
  });
});

describe('watch', () => {
  it('summarises progress on one line, naming what is not up yet', () => {
    expect(progressLine(view())).toBe(
      'degraded  assemblies 1/2 online  services 1/3 running  [db1/backup: stopped, web1: pending, web1/httpd: failed]  (web1/httpd failed twice)',
    );
    expect(progressLine(view({ status: 'starting', assemblies: [], reason: 'waiting for its DPE' }))).toBe(
      'starting  (waiting for its DPE)',
    );
  });

  it.each([
    ['running', 'started', 0, 'deployable shop is running'],
    ['failed', 'started', 1, 'deployable shop failed: web1/httpd failed twice'],
    [
      'stopped',
      'stopped',
      1,
      'deployable shop is stopped by request; start it with `nephele deployable start shop`',
    ],
  ] as const)('ends on %s (desired %s) with exit %i', (status, desired, exitCode, message) => {
    expect(watchVerdict(view({ status, desired }))).toEqual({ done: true, exitCode, message });
  });

  it.each(['starting', 'degraded', 'recovering'])('keeps watching while %s', (status) => {
    expect(watchVerdict(view({ status }))).toEqual({ done: false });
  });

  it('prefixes lines with the elapsed seconds', () => {
    expect(elapsedPrefix(0)).toBe('[   0s]');
    expect(elapsedPrefix(12_999)).toBe('[  12s]');
  });
});
