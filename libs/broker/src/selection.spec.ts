import fc from 'fast-check';
import {
  BrokerConfigSnapshot,
  HardwareProfileConfig,
  PoolConfig,
  ProviderAccountConfig,
  ProviderProfileConfig,
} from './broker-config.types';
import { rejectionReason } from './hardware-match';
import { quotaExceeded } from './quota';
import { selectCandidates, weightedIndex } from './selection';

const stamp = { version: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };

function world(opts: {
  accounts: {
    enabled: boolean;
    providerEnabled: boolean;
    priority: number;
    weight: number;
    mapped: boolean;
    maxInstances?: number;
    used: number;
    profiles: { cpu: number; mem: number; cost: number | null }[];
  }[];
  hw: { cpu: number | { min?: number; max?: number }; mem: number | { min?: number; max?: number } };
  poolMax?: number;
}) {
  const providers = opts.accounts.map((a, i) => ({
    ...stamp,
    id: `prov-${i}`,
    name: `prov-${i}`,
    kind: 'simulated',
    endpoint: null,
    region: null,
    enabled: a.providerEnabled,
    options: {},
  }));
  const providerAccounts: ProviderAccountConfig[] = opts.accounts.map((a, i) => ({
    ...stamp,
    id: `acct-${i}`,
    project: 'p',
    providerId: `prov-${i}`,
    name: `acct-${i}`,
    enabled: a.enabled,
    priority: a.priority,
    weight: a.weight,
    quota: a.maxInstances === undefined ? {} : { maxInstances: a.maxInstances },
    hasCredentials: true,
  }));
  const providerProfiles: ProviderProfileConfig[] = opts.accounts.flatMap((a, i) =>
    a.profiles.map((p, j) => ({
      ...stamp,
      id: `pp-${i}-${j}`,
      providerId: `prov-${i}`,
      name: `f${j}`,
      cpu: p.cpu,
      memoryMb: p.mem,
      storageGb: 10,
      arch: 'x86_64',
      costPerHour: p.cost,
    })),
  );
  const pool: PoolConfig = {
    ...stamp,
    id: 'pool',
    project: 'p',
    name: 'pool',
    description: null,
    familyId: 'fam',
    enabled: true,
    quota: opts.poolMax === undefined ? {} : { maxInstances: opts.poolMax },
  };
  const snapshot: BrokerConfigSnapshot = {
    generatedAt: stamp.createdAt,
    providers,
    providerProfiles,
    realms: [],
    providerAccounts,
    poolFamilies: [
      {
        ...stamp,
        id: 'fam',
        project: 'p',
        name: 'fam',
        description: null,
        accountIds: providerAccounts.map((a) => a.id),
        quota: {},
      },
    ],
    pools: [pool],
    hardwareProfiles: [],
    images: [],
    imageMappings: [],
  };
  const hardwareProfile: HardwareProfileConfig = {
    ...stamp,
    id: 'hw',
    project: 'p',
    name: 'small',
    cpu: opts.hw.cpu,
    memoryMb: opts.hw.mem,
    storageGb: null,
    arch: null,
  };
  const mappings = new Map(
    opts.accounts.flatMap((a, i) => (a.mapped ? [[`acct-${i}`, `img-${i}`] as [string, string]] : [])),
  );
  const byAccount = new Map(
    opts.accounts.map((a, i) => [`acct-${i}`, { instances: a.used, cores: a.used, memoryMb: a.used * 512 }]),
  );
  const poolUsed = opts.accounts.reduce((s, a) => s + a.used, 0);
  return {
    snapshot,
    req: {
      pool,
      hardwareProfile,
      imageId: 'img',
      mappings,
      usage: {
        byAccount,
        pool: { instances: poolUsed, cores: poolUsed, memoryMb: 0 },
        family: { instances: 0, cores: 0, memoryMb: 0 },
      },
      recentFailures: new Map<string, number>(),
      seed: 'seed',
    },
  };
}

const amount = fc.oneof(
  fc.integer({ min: 1, max: 8 }),
  fc.record({
    min: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    max: fc.option(fc.integer({ min: 4, max: 16 }), { nil: undefined }),
  }),
);
const accountArb = fc.record({
  enabled: fc.boolean(),
  providerEnabled: fc.boolean(),
  priority: fc.integer({ min: 0, max: 3 }),
  weight: fc.integer({ min: 0, max: 5 }),
  mapped: fc.boolean(),
  maxInstances: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  used: fc.integer({ min: 0, max: 5 }),
  profiles: fc.array(
    fc.record({
      cpu: fc.integer({ min: 1, max: 16 }),
      mem: fc.integer({ min: 256, max: 8192 }),
      cost: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
    }),
    { maxLength: 4 },
  ),
});

describe('selectCandidates', () => {
  it('never keeps an account without mapping, matching profile or headroom, and explains every account once', () => {
    fc.assert(
      fc.property(
        fc.array(accountArb, { minLength: 1, maxLength: 6 }),
        amount,
        amount,
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        (accounts, cpu, mem, poolMax) => {
          const { snapshot, req } = world({ accounts, hw: { cpu, mem }, poolMax });
          const sel = selectCandidates(snapshot, req);
          expect(sel.decisions.map((d) => d.providerAccountId).sort()).toEqual(
            snapshot.providerAccounts.map((a) => a.id).sort(),
          );
          for (const c of sel.candidates) {
            const i = Number(c.account.id.split('-')[1]);
            const a = accounts[i]!;
            expect(a.enabled && a.providerEnabled && a.mapped).toBe(true);
            expect(rejectionReason({ cpu, memoryMb: mem }, c.profile)).toBeUndefined();
            expect(
              quotaExceeded(c.account.quota, req.usage.byAccount.get(c.account.id)!, {
                instances: 1,
                cores: c.profile.cpu,
                memoryMb: c.profile.memoryMb,
              }),
            ).toBeUndefined();
            expect(
              quotaExceeded(req.pool.quota, req.usage.pool, {
                instances: 1,
                cores: c.profile.cpu,
                memoryMb: c.profile.memoryMb,
              }),
            ).toBeUndefined();
          }
          for (let k = 1; k < sel.candidates.length; k++) {
            expect(sel.candidates[k - 1]!.account.priority).toBeLessThanOrEqual(
              sel.candidates[k]!.account.priority,
            );
          }
          expect(sel.decisions.filter((d) => d.kept)).toHaveLength(sel.candidates.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is deterministic for a seed', () => {
    const accounts = [0, 1, 2, 3].map(() => ({
      enabled: true,
      providerEnabled: true,
      priority: 0,
      weight: 1,
      mapped: true,
      used: 0,
      profiles: [{ cpu: 2, mem: 1024, cost: 1 }],
    }));
    const { snapshot, req } = world({ accounts, hw: { cpu: 2, mem: 1024 } });
    const a = selectCandidates(snapshot, req).candidates.map((c) => c.account.id);
    const b = selectCandidates(snapshot, req).candidates.map((c) => c.account.id);
    expect(a).toEqual(b);
  });

  it('says why each dropped account was dropped', () => {
    const base = {
      enabled: true,
      providerEnabled: true,
      priority: 0,
      weight: 1,
      mapped: true,
      used: 0,
      profiles: [{ cpu: 2, mem: 1024, cost: 1 }],
    };
    const { snapshot, req } = world({
      accounts: [
        { ...base, enabled: false },
        { ...base, mapped: false },
        { ...base, profiles: [{ cpu: 1, mem: 512, cost: 1 }] },
        { ...base, maxInstances: 2, used: 2 },
        base,
      ],
      hw: { cpu: 2, mem: 1024 },
    });
    const sel = selectCandidates(snapshot, req);
    const reason = (i: number) => sel.decisions.find((d) => d.providerAccountId === `acct-${i}`)!.reason;
    expect(reason(0)).toMatch(/disabled/);
    expect(reason(1)).toMatch(/no image mapping/);
    expect(reason(2)).toMatch(/no provider profile matches/);
    expect(reason(3)).toMatch(/account quota/);
    expect(sel.candidates.map((c) => c.account.id)).toEqual(['acct-4']);
  });

  it('prefers lower priority values, then fewer recent failures, then lower cost', () => {
    const base = { enabled: true, providerEnabled: true, weight: 1, mapped: true, used: 0 };
    const { snapshot, req } = world({
      accounts: [
        { ...base, priority: 1, profiles: [{ cpu: 2, mem: 1024, cost: 1 }] },
        { ...base, priority: 0, profiles: [{ cpu: 2, mem: 1024, cost: 9 }] },
        { ...base, priority: 0, profiles: [{ cpu: 2, mem: 1024, cost: 5 }] },
        { ...base, priority: 0, profiles: [{ cpu: 2, mem: 1024, cost: 1 }] },
      ],
      hw: { cpu: 2, mem: 1024 },
    });
    const failing = { ...req, recentFailures: new Map([['acct-3', 2]]) };
    expect(selectCandidates(snapshot, failing).candidates.map((c) => c.account.id)).toEqual([
      'acct-2',
      'acct-1',
      'acct-3',
      'acct-0',
    ]);
  });
});

describe('weightedIndex', () => {
  it('draws in proportion to the weights', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 1000; i++) counts[weightedIndex([1, 0, 3], i / 1000)]!++;
    expect(counts).toEqual([250, 0, 750]);
  });
});
