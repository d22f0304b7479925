import { PolicyAction } from './action.types';
import { DeployableFailureHistory, DeployableObservedState, DeployableSpec } from './deployable.types';
import { deployableFromManifest } from './deployable-manifest';
import { planDeployable } from './recovery-ladder';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);
const s = (n: number): number => NOW - n * 1000;
const m = (n: number): number => NOW - n * 60_000;

// shop.deployable.yaml, plus a second web assembly httpd may move to.
const shop: DeployableSpec = deployableFromManifest({
  name: 'shop',
  assemblies: [
    {
      name: 'db1',
      escalation: { failures: 2, period: '10m' },
      services: [{ name: 'store', escalation: { failures: 3, period: '60s' } }],
    },
    {
      name: 'web1',
      escalation: { failures: 2, period: '10m' },
      services: [{ name: 'httpd', escalation: { failures: 3, period: '60s' }, placement: { assemblies: ['web1', 'web2'] } }],
    },
    { name: 'web2', escalation: { failures: 2, period: '10m' } },
  ],
  constraints: [{ order: { first: 'db1/store', then: 'web1/httpd' } }],
});

const allOnline = { db1: { state: 'online' }, web1: { state: 'online' }, web2: { state: 'online' } } as const;
const healthy: DeployableObservedState = {
  assemblies: allOnline,
  services: { 'db1/store': { state: 'running', assembly: 'db1' }, 'web1/httpd': { state: 'running', assembly: 'web1' } },
};
const storeFailed: DeployableObservedState = {
  ...healthy,
  services: { ...healthy.services, 'db1/store': { state: 'failed', assembly: 'db1' } },
};
const httpdFailed: DeployableObservedState = {
  ...healthy,
  services: { ...healthy.services, 'web1/httpd': { state: 'failed', assembly: 'web1' } },
};
const db1Failed: DeployableObservedState = {
  assemblies: { ...allOnline, db1: { state: 'failed' } },
  services: healthy.services,
};
const storeFailures = (...at: number[]): DeployableFailureHistory => ({ services: { 'db1/store': at.map((t) => ({ at: t, assembly: 'db1' })) } });

/** One line per action: `kind subject[@node][ from x] [rung]`. */
function summary(actions: PolicyAction[]): string[] {
  return actions.map((a) => {
    const rung = a.rung ? ` [${a.rung}]` : '';
    switch (a.kind) {
      case 'start':
      case 'stop':
      case 'restart':
        return `${a.kind} ${a.resource}@${a.node}${rung}`;
      case 'move':
        return `move ${a.resource}@${a.node} from ${a.from}${rung}`;
      case 'replace-assembly':
        return `replace-assembly ${a.node}${a.recordsAssemblyFailure ? ' (records failure)' : ''}${rung}`;
      case 'mark-failed':
        return `mark-failed ${a.node}${rung}`;
    }
  });
}

interface Row {
  name: string;
  observed: DeployableObservedState;
  history: DeployableFailureHistory;
  status: string;
  actions: string[];
  placement?: Record<string, string | null>;
  explains?: RegExp;
}

const table: Row[] = [
  { name: 'healthy: nothing to do', observed: healthy, history: {}, status: 'running', actions: [] },
  {
    name: 'first deployment: store, then httpd (order)',
    observed: { assemblies: allOnline, services: {} },
    history: {},
    status: 'running',
    actions: ['start db1/store@db1', 'start web1/httpd@web1'],
    placement: { 'db1/store': 'db1', 'web1/httpd': 'web1' },
  },
  {
    name: 'rung 1: a failed service restarts in place (its dependent restarts after it)',
    observed: storeFailed,
    history: storeFailures(s(5)),
    status: 'recovering',
    // httpd stops first and starts last: the order store → httpd, stopped in reverse.
    actions: ['restart web1/httpd@web1', 'restart db1/store@db1 [restart-in-place]'],
    explains: /failure 1 of 3 within 60s: restart in place/,
  },
  {
    name: 'rung 1: failures older than the period do not count',
    observed: storeFailed,
    history: storeFailures(s(300), s(200), s(5)),
    status: 'recovering',
    actions: ['restart web1/httpd@web1', 'restart db1/store@db1 [restart-in-place]'],
  },
  {
    name: 'rung 2: escalation moves a service to another allowed assembly',
    observed: httpdFailed,
    history: { services: { 'web1/httpd': [s(50), s(20), s(1)].map((at) => ({ at, assembly: 'web1' })) } },
    status: 'recovering',
    actions: ['move web1/httpd@web2 from web1 [move]'],
    placement: { 'db1/store': 'db1', 'web1/httpd': 'web2' },
    explains: /failed 3 times within 60s \(escalation_failures 3\) on web1: move/,
  },
  {
    name: 'rung 3: a pinned service that escalates gets its assembly replaced',
    observed: storeFailed,
    history: storeFailures(s(50), s(20), s(1)),
    status: 'recovering',
    actions: ['restart web1/httpd@web1', 'replace-assembly db1 (records failure) [replace-assembly]', 'start db1/store@db1'],
    placement: { 'db1/store': 'db1', 'web1/httpd': 'web1' },
    explains: /db1\/store failed 3 times within 60s \(escalation_failures 3\) on db1 and it is pinned to it/,
  },
  {
    name: 'rung 3: no other allowed assembly is available (web2 pending)',
    observed: { ...httpdFailed, assemblies: { ...allOnline, web2: { state: 'pending' } } },
    history: { services: { 'web1/httpd': [s(50), s(20), s(1)].map((at) => ({ at, assembly: 'web1' })) } },
    status: 'recovering',
    actions: ['replace-assembly web1 (records failure) [replace-assembly]', 'start web1/httpd@web1'],
    explains: /no other allowed assembly is available/,
  },
  {
    name: 'rung 3: a failed assembly is replaced, and what ran there starts after it',
    observed: db1Failed,
    history: { assemblies: { db1: [m(1)] } },
    status: 'recovering',
    actions: ['restart web1/httpd@web1', 'replace-assembly db1 [replace-assembly]', 'start db1/store@db1'],
    explains: /assembly db1 failed \(assembly failure 1 of 2 within 10m\)/,
  },
  {
    name: 'rung 3: assembly failures older than its period do not count',
    observed: db1Failed,
    history: { assemblies: { db1: [m(25), m(1)] } },
    status: 'recovering',
    actions: ['restart web1/httpd@web1', 'replace-assembly db1 [replace-assembly]', 'start db1/store@db1'],
  },
  {
    name: 'rung 4: an assembly that failed N times within its period fails the deployable',
    observed: db1Failed,
    history: { assemblies: { db1: [m(5), m(1)] } },
    status: 'failed',
    actions: ['mark-failed db1 [mark-failed]'],
    explains: /assembly db1 failed 2 times within 10m \(escalation_failures 2\)/,
  },
  {
    name: 'rung 4: a service escalation that would replace an exhausted assembly fails the deployable',
    observed: storeFailed,
    history: { ...storeFailures(s(50), s(20), s(1)), assemblies: { db1: [m(5)] } },
    status: 'failed',
    actions: ['mark-failed db1 [mark-failed]'],
  },
  {
    name: 'after a replacement, failures of the old instance are forgotten',
    observed: { assemblies: { ...allOnline, db1: { state: 'online', since: s(30) } }, services: { 'web1/httpd': healthy.services['web1/httpd'] } },
    history: { ...storeFailures(s(50), s(40), s(35)), assemblies: { db1: [s(35)] } },
    status: 'running',
    actions: ['start db1/store@db1', 'restart web1/httpd@web1'],
  },
];

describe(planDeployable.name, () => {
  it.each(table)('$name', (row) => {
    const sut = planDeployable(shop, row.observed, row.history, NOW);
    expect(sut.status).toBe(row.status);
    expect(summary(sut.actions)).toEqual(row.actions);
    if (row.placement) expect(sut.placement).toEqual(row.placement);
    if (row.explains) expect(sut.actions.map((a) => a.explanation).join('\n')).toMatch(row.explains);
    for (const a of sut.actions) expect(a.explanation).not.toMatch(/\n/);
  });

  it('orders steps: dependent stops, assembly replaced, service starts, dependent starts', () => {
    const sut = planDeployable(shop, storeFailed, storeFailures(s(50), s(20), s(1)), NOW);
    expect(sut.steps.map((st) => st.id)).toEqual([
      'stop:web1/httpd@web1',
      'replace-assembly@db1',
      'start:db1/store@db1',
      'start:web1/httpd@web1',
    ]);
    const start = sut.steps.find((st) => st.id === 'start:db1/store@db1')!;
    expect(start.after).toContain('replace-assembly@db1');
  });

  it('keeps a disabled service stopped', () => {
    const spec: DeployableSpec = { ...shop, services: shop.services.map((x) => (x.id === 'web1/httpd' ? { ...x, enabled: false } : x)) };
    const sut = planDeployable(spec, healthy, {}, NOW);
    expect(summary(sut.actions)).toEqual(['stop web1/httpd@web1']);
    expect(sut.explanations['web1/httpd']).toBe('target-role is Stopped');
  });
});
