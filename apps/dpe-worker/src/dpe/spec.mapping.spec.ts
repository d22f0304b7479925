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
