import { DeployableDocument, ServiceDoc } from '@nephele/contracts';
import { planDeployable } from '@nephele/policy';
import { toPolicySpec } from './spec.mapping';

const NOW = Date.UTC(2025, 0, 1);
const svc = (name: string): ServiceDoc => ({
  name,
  class: 'process',
  command: [name],
  parameters: {},
  monitor: { intervalMs: 5000, timeoutMs: 2000 },
});

// A web group (httpd, then cache, then sidecar — declared in another order) on web1, a database on db1.
const doc: DeployableDocument = {
  name: 'shop',
  pool: 'default',
  monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
  assemblies: [
    { name: 'db1', image: 'i', hardwareProfile: 'h', services: [svc('store')] },
    {
      name: 'web1',
      image: 'i',
      hardwareProfile: 'h',
      services: [svc('sidecar'), svc('cache'), svc('httpd')],
    },
  ],
  constraints: [],
  groups: [{ name: 'web', services: ['web1/httpd', 'web1/cache', 'web1/sidecar'] }],
};
const online = { db1: { state: 'online' }, web1: { state: 'online' } } as const;

describe('toPolicySpec groups', () => {
  it('passes the groups to the planner, which starts them in the group order on one assembly', () => {
    const spec = toPolicySpec(doc);
    expect(spec.groups).toEqual([{ name: 'web', services: ['web1/httpd', 'web1/cache', 'web1/sidecar'] }]);
    const plan = planDeployable(spec, { assemblies: online, services: {} }, {}, NOW);
    expect(plan.placement).toMatchObject({
      'web1/httpd': 'web1',
      'web1/cache': 'web1',
      'web1/sidecar': 'web1',
    });
    const step = (id: string) => plan.steps.find((s) => s.id === id)!;
    expect(step('start:web1/cache@web1').after).toContain('start:web1/httpd@web1');
    expect(step('start:web1/sidecar@web1').after).toContain('start:web1/cache@web1');
    // Without the group, the services start independently of each other.
    const free = planDeployable(
      toPolicySpec({ ...doc, groups: undefined }),
      { assemblies: online, services: {} },
      {},
      NOW,
    );
    expect(free.steps.find((s) => s.id === 'start:web1/sidecar@web1')!.after ?? []).not.toContain(
      'start:web1/cache@web1',
    );
  });

  it('stops a group in reverse order when the deployable is stopped service by service', () => {
    const spec = toPolicySpec({
      ...doc,
      assemblies: doc.assemblies.map((a) => ({
        ...a,
        services: a.services.map((s) => ({ ...s, enabled: false })),
      })),
    });
    const running = (assembly: string) => ({ state: 'running' as const, assembly });
    const plan = planDeployable(
      spec,
      {
        assemblies: online,
        services: {
          'db1/store': running('db1'),
          'web1/httpd': running('web1'),
          'web1/cache': running('web1'),
          'web1/sidecar': running('web1'),
        },
      },
      {},
      NOW,
    );
    const step = (id: string) => plan.steps.find((s) => s.id === id)!;
    expect(step('stop:web1/httpd@web1').after).toContain('stop:web1/cache@web1');
    expect(step('stop:web1/cache@web1').after).toContain('stop:web1/sidecar@web1');
  });
});

// A clone's instances as the CPE's intake writes them (Note [Clones as pinned primitives]): one
// service per assembly, no placement, and the clone entry.
const cloned: DeployableDocument = {
  name: 'farm',
  pool: 'default',
  monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
  assemblies: ['a1', 'a2', 'a3'].map((a) => ({
    name: a,
    image: 'i',
    hardwareProfile: 'h',
    services: [svc('web')],
  })),
  constraints: [],
  clones: [{ name: 'web', service: 'web', assemblies: ['a1', 'a2', 'a3'] }],
};
const running = (assembly: string) => ({ state: 'running' as const, assembly });

describe('toPolicySpec clones', () => {
  it('pins each instance to its assembly: a lost assembly leaves its instance stopped, the others untouched', () => {
    const spec = toPolicySpec(cloned);
    expect(spec.services.map((s) => [s.id, s.allowedAssemblies ?? [s.assembly]])).toEqual([
      ['a1/web', ['a1']],
      ['a2/web', ['a2']],
      ['a3/web', ['a3']],
    ]);
    const plan = planDeployable(
      spec,
      {
        assemblies: { a1: { state: 'online' }, a2: { state: 'online' }, a3: { state: 'failed' } },
        services: { 'a1/web': running('a1'), 'a2/web': running('a2'), 'a3/web': running('a3') },
      },
      {},
      NOW,
    );
    // a3/web waits for a3's replacement (placement is after pending replacements complete), and
    // nothing touches a1/web or a2/web; nothing moves.
    expect(plan.placement).toEqual({ 'a1/web': 'a1', 'a2/web': 'a2', 'a3/web': 'a3' });
    expect(plan.actions.map((a) => [a.kind, 'resource' in a ? a.resource : a.node, a.node])).toEqual([
      ['replace-assembly', 'a3', 'a3'],
      ['start', 'a3/web', 'a3'],
    ]);
  });

  it('starts the instance again on the replaced assembly', () => {
    const plan = planDeployable(
      toPolicySpec(cloned),
      {
        assemblies: { a1: { state: 'online' }, a2: { state: 'online' }, a3: { state: 'online', since: NOW } },
        services: { 'a1/web': running('a1'), 'a2/web': running('a2') },
      },
      {},
      NOW,
    );
    expect(plan.actions.map((a) => [a.kind, 'resource' in a ? a.resource : a.node])).toEqual([
      ['start', 'a3/web'],
    ]);
    expect(plan.actions[0]).toMatchObject({ node: 'a3' });
  });
});
