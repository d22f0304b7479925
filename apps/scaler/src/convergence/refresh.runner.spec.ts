import { lbKey, planRefresh } from '@nephele/scaling';
import { GroupRow } from '../state/group.types';
import { refreshHealthy, refreshServers } from './refresh.runner';
import { ServerRow } from '../state/servers.repository';

const lb = { id: 'front', port: 8080 };
const group = (loadBalancers: { id: string; port: number }[] = [lb]) =>
  ({ launch_config: { loadBalancers } }) as unknown as GroupRow;
const server = (id: string, over: Partial<ServerRow> = {}): ServerRow =>
  ({
    id,
    state: 'active',
    lifecycle: 'in-service',
    evicted: null,
    detached: false,
    protected: false,
    lb_memberships: [lb],
    launch_version: 1,
    created_at: new Date('2026-01-31T12:00:00Z'),
    ...over,
  }) as ServerRow;

describe('refresh health and candidates', () => {
  it.each<[string, Partial<ServerRow>, boolean]>([
    ['active, in service, in the balancer', {}, true],
    ['building', { state: 'building' }, false],
    ['held by a launching hook', { lifecycle: 'PENDING:WAIT' }, false],
    ['not yet in the balancer', { lb_memberships: [] }, false],
    ['asked to leave', { evicted: 'removed by request' }, false],
  ])('%s → healthy %s', (_what, over, want) => {
    expect(refreshHealthy(group(), server('s', over))).toBe(want);
  });

  it('with what the balancers report, needs the server up in each of them', () => {
    const k = lbKey(lb);
    expect(refreshHealthy(group(), server('s'), new Map([[k, new Set(['s'])]]))).toBe(true);
    expect(refreshHealthy(group(), server('s'), new Map([[k, new Set(['other'])]]))).toBe(false);
    expect(refreshHealthy(group(), server('s'), new Map())).toBe(false);
  });

  it('needs no balancer membership when the launch config has none', () => {
    expect(refreshHealthy(group([]), server('s', { lb_memberships: [] }))).toBe(true);
  });

  it('leaves out servers already leaving, and counts a protected one as up to date', () => {
    const rows = [
      server('a'),
      server('b', { protected: true }),
      server('c', { lifecycle: 'TERMINATING:WAIT' }),
      server('d', { state: 'deleting' }),
      server('e', { detached: true, state: 'error' }),
      server('f', { evicted: 'instance refresh' }),
    ];
    expect(refreshServers(group(), rows, 2).map((s) => [s.id, s.launchVersion])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('never retires a protected server; the refresh finishes around it', () => {
    const rows = [server('a', { protected: true }), server('b', { launch_version: 2 })];
    const d = planRefresh({
      spec: { minHealthyPercentage: 50, batchSize: 2, warmup: 60 },
      state: { status: 'running', toVersion: 2, fromVersion: 1 },
      desired: 2,
      servers: refreshServers(group(), rows, 2),
      nowMs: 0,
    });
    expect(d.kind).toBe('finish');
  });
});
