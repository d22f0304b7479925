import fc from 'fast-check';
import { capacityView, plan } from './plan';
import { executePolicy } from './policy-execution';
import { Group, LaunchConfig, ObservedServer, Policy, SERVER_STATES } from './scaling.types';

const NOW = new Date('2025-06-01T12:00:00Z');
const lb = { id: 'lb', port: 80 };

const groupArb: fc.Arbitrary<Group> = fc
  .record({ min: fc.integer({ min: 0, max: 20 }), span: fc.integer({ min: 0, max: 20 }) })
  .chain(({ min, span }) =>
    fc.record({
      id: fc.constant('g'),
      minEntities: fc.constant(min),
      maxEntities: fc.constant(min + span),
      cooldownMs: fc.integer({ min: 0, max: 600_000 }),
      desired: fc.integer({ min: -5, max: 50 }),
      paused: fc.constant(false),
      lastScaledAt: fc.option(
        fc.integer({ min: 0, max: 1_200_000 }).map((ms) => new Date(NOW.getTime() - ms)),
        { nil: undefined },
      ),
    }),
  );

const policyArb: fc.Arbitrary<Policy> = fc
  .oneof(
    fc.integer({ min: -30, max: 30 }).map((change) => ({ change })),
    fc.double({ min: -300, max: 300, noNaN: true }).map((changePercent) => ({ changePercent })),
    fc.integer({ min: 0, max: 60 }).map((desiredCapacity) => ({ desiredCapacity })),
  )
  .chain((adjustment) =>
    fc
      .record({
        id: fc.constant('p'),
        name: fc.constant('p'),
        type: fc.constant('webhook' as const),
        cooldownMs: fc.integer({ min: 0, max: 600_000 }),
        lastExecutedAt: fc.option(
          fc.integer({ min: 0, max: 1_200_000 }).map((ms) => new Date(NOW.getTime() - ms)),
          { nil: undefined },
        ),
      })
      .map((p) => ({ ...p, ...adjustment })),
  );

const serversArb: fc.Arbitrary<ObservedServer[]> = fc
  .array(
    fc.record({
      state: fc.constantFrom(...SERVER_STATES),
      ageMs: fc.integer({ min: 0, max: 3_600_000 }),
      inLb: fc.boolean(),
      drainingFor: fc.integer({ min: 0, max: 120_000 }),
    }),
    { maxLength: 40 },
  )
  .map((xs) =>
    xs.map((x, i) => ({
      id: `s${i}`,
      state: x.state,
      createdAt: new Date(NOW.getTime() - x.ageMs),
      lbMemberships: x.inLb ? [lb] : [],
      drainingSince: x.state === 'draining' ? new Date(NOW.getTime() - x.drainingFor) : undefined,
    })),
  );

const launchArb: fc.Arbitrary<LaunchConfig> = fc.record({
  image: fc.constant('img'),
  hardwareProfile: fc.constant('small'),
  loadBalancers: fc.constant([lb]),
  drainingTimeoutMs: fc.constantFrom(0, 30_000),
  buildTimeoutMs: fc.integer({ min: 1, max: 3_600_000 }),
});

describe('scaling properties', () => {
  it('executePolicy never leaves the desired capacity outside [min, max]', () => {
    fc.assert(
      fc.property(groupArb, policyArb, (g, p) => {
        const r = executePolicy(g, p, NOW);
        if (!r.ok) return r.refusedBy === 'paused' || r.until.getTime() > NOW.getTime();
        return (
          r.desiredAfter >= g.minEntities &&
          r.desiredAfter <= g.maxEntities &&
          r.desiredBefore >= g.minEntities &&
          r.desiredBefore <= g.maxEntities
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('plan lands exactly on the clamped target: never creates beyond max nor deletes below min', () => {
    fc.assert(
      fc.property(groupArb, launchArb, serversArb, (g, l, servers) => {
        const steps = plan(g, l, servers, NOW);
        const view = capacityView(g, l, servers, NOW);
        const healthy = new Set([...view.active, ...view.building].map((s) => s.id));
        let after = healthy.size;
        const removed = new Set<string>();
        for (const s of steps) {
          if (s.kind === 'create-server' || s.kind === 'replace-server') after++;
          if ((s.kind === 'delete-server' || s.kind === 'drain') && healthy.has(s.serverId)) {
            if (!removed.has(s.serverId)) after--;
            removed.add(s.serverId);
          }
        }
        const creates = steps.filter((s) => s.kind === 'create-server' || s.kind === 'replace-server').length;
        return (
          after === view.target &&
          after <= g.maxEntities &&
          after >= g.minEntities &&
          // Growing never also shrinks, and shrinking never also grows.
          (creates === 0 || removed.size === 0)
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('plan deletes a server only after it left every balancer, and never touches one twice', () => {
    fc.assert(
      fc.property(groupArb, launchArb, serversArb, (g, l, servers) => {
        const steps = plan(g, l, servers, NOW);
        const byId = new Map(servers.map((s) => [s.id, s]));
        const ended = new Set<string>();
        for (const s of steps) {
          if (s.kind === 'create-server') continue;
          if (ended.has(s.serverId)) return false;
          if (s.kind === 'delete-server' || s.kind === 'replace-server') {
            const left = steps.filter((x) => x.kind === 'remove-from-lb' && x.serverId === s.serverId).length;
            if (left !== (byId.get(s.serverId)?.lbMemberships ?? []).length) return false;
            ended.add(s.serverId);
          }
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });
});
