import { DeployableManifest, deployableFromManifest } from './deployable-manifest';
import { DeployableObservedState } from './deployable.types';
import { planDeployable } from './recovery-ladder';

const NOW = Date.UTC(2024, 0, 1, 12, 0, 0);

// A web group (httpd, then cache) on web1 that may also run on web2, and a database on db1.
const manifest: DeployableManifest = {
  name: 'shop',
  assemblies: [
    { name: 'db1', services: [{ name: 'store' }] },
    {
      name: 'web1',
      services: [
        { name: 'httpd', escalation: { failures: 2, period: '60s' }, placement: { assemblies: ['web1', 'web2'] } },
        { name: 'cache', placement: { assemblies: ['web1', 'web2'] } },
      ],
    },
    { name: 'web2' },
  ],
  groups: [{ name: 'web', services: ['web1/httpd', 'web1/cache'] }],
};
const spec = deployableFromManifest(manifest);
const online = { db1: { state: 'online' }, web1: { state: 'online' }, web2: { state: 'online' } } as const;

describe('deployable service groups', () => {
  it('reads groups from the manifest', () => {
    expect(spec.groups).toEqual([{ name: 'web', services: ['web1/httpd', 'web1/cache'] }]);
  });

  it('starts a group in order on one assembly', () => {
    const p = planDeployable(spec, { assemblies: online, services: {} }, {}, NOW);
    expect(p.placement).toEqual({ 'db1/store': 'db1', 'web1/httpd': 'web1', 'web1/cache': 'web1' });
    const ids = p.steps.map((s) => s.id);
    expect(ids.indexOf('start:web1/httpd@web1')).toBeLessThan(ids.indexOf('start:web1/cache@web1'));
    expect(p.steps.find((s) => s.id === 'start:web1/cache@web1')!.after).toContain('start:web1/httpd@web1');
  });

  it('moves the whole group when one of its services escalates (stop in reverse, start in order)', () => {
    const observed: DeployableObservedState = {
      assemblies: online,
      services: {
        'db1/store': { state: 'running', assembly: 'db1' },
        'web1/httpd': { state: 'failed', assembly: 'web1' },
        'web1/cache': { state: 'running', assembly: 'web1' },
      },
    };
    const history = { services: { 'web1/httpd': [NOW - 20_000, NOW - 1000].map((at) => ({ at, assembly: 'web1' })) } };
    const p = planDeployable(spec, observed, history, NOW);
    expect(p.placement).toEqual({ 'db1/store': 'db1', 'web1/httpd': 'web2', 'web1/cache': 'web2' });
    const step = (id: string) => p.steps.find((s) => s.id === id)!;
    expect(step('stop:web1/httpd@web1').after).toContain('stop:web1/cache@web1');
    expect(step('start:web1/cache@web2').after).toContain('start:web1/httpd@web2');
    expect(p.actions.find((a) => a.kind === 'move' && a.resource === 'web1/httpd')!.rung).toBe('move');
  });

  it.each([
    [{ name: 'web', services: ['web1/nope'] }, /groups\[0\]\.services: unknown service web1\/nope/],
    [{ name: 'web', services: [] }, /groups\[0\]\.services must list at least one service/],
  ])('refuses an invalid group %#', (group, message) => {
    expect(() => deployableFromManifest({ ...manifest, groups: [group] })).toThrow(message);
  });

  it('refuses a service in two groups', () => {
    const groups = [
      { name: 'a', services: ['web1/httpd'] },
      { name: 'b', services: ['web1/httpd'] },
    ];
    expect(() => deployableFromManifest({ ...manifest, groups })).toThrow(/groups\[1\]\.services: web1\/httpd is already in group a/);
  });
});
