import fc from 'fast-check';
import {
  amountBounds,
  compareProfiles,
  HardwareProfileSpec,
  matchHardwareProfile,
  ProviderProfileSpec,
  quotaExceeded,
} from './index';

const profile = (
  id: string,
  cpu: number,
  memoryMb: number,
  storageGb = 20,
  more: Partial<ProviderProfileSpec> = {},
) => ({
  id,
  cpu,
  memoryMb,
  storageGb,
  arch: 'x86_64',
  costPerHour: 0.1,
  ...more,
});

describe(matchHardwareProfile.name, () => {
  const offered = [
    profile('large', 8, 32768, 100, { costPerHour: 0.8 }),
    profile('small', 1, 1024),
    profile('medium-b', 2, 4096, 40, { costPerHour: 0.2 }),
    profile('medium-a', 2, 4096, 40, { costPerHour: 0.15 }),
    profile('arm', 2, 4096, 40, { arch: 'aarch64', costPerHour: 0.01 }),
  ];

  it.each<[string, HardwareProfileSpec, string | undefined, string[]]>([
    [
      'the smallest that is big enough, then the cheapest',
      { cpu: { min: 2 }, memoryMb: { min: 2048 }, arch: 'x86_64' },
      'medium-a',
      ['medium-a', 'medium-b', 'large'],
    ],
    ['a fixed value means exactly that', { cpu: 8 }, 'large', ['large']],
    ['any arch when none is asked', { cpu: 2 }, 'arm', ['arm', 'medium-a', 'medium-b']],
    ['a range with an upper bound', { cpu: { min: 1, max: 2 }, memoryMb: { max: 2048 } }, 'small', ['small']],
    ['nothing matches', { cpu: { min: 64 } }, undefined, []],
    [
      'an empty profile takes the smallest of all',
      {},
      'small',
      ['small', 'arm', 'medium-a', 'medium-b', 'large'],
    ],
  ])('%s', (_, hw, chosen, order) => {
    const sut = matchHardwareProfile(hw, offered);
    expect(sut.chosen?.id).toBe(chosen);
    expect(sut.matches.map((m) => m.id)).toEqual(order);
    expect(sut.rejections.map((r) => r.profileId).sort()).toEqual(
      offered
        .map((o) => o.id)
        .filter((id) => !order.includes(id))
        .sort(),
    );
  });

  it('says why each profile is rejected', () => {
    const sut = matchHardwareProfile({ cpu: { min: 2, max: 4 }, memoryMb: 4096, arch: 'x86_64' }, offered);
    const why = Object.fromEntries(sut.rejections.map((r) => [r.profileId, r.reason]));
    expect(why.small).toBe('1 cpu is less than the 2 asked; 1024 MB memory is less than the 4096 asked');
    expect(why.large).toBe('8 cpu is more than the 4 allowed; 32768 MB memory is more than the 4096 allowed');
    expect(why.arm).toBe('arch aarch64 is not x86_64');
  });

  it('sorts an unknown cost after every known one', () => {
    const sut = matchHardwareProfile({}, [
      profile('unknown', 1, 1, 1, { costPerHour: null }),
      profile('known', 1, 1, 1, { costPerHour: 99 }),
    ]);
    expect(sut.chosen?.id).toBe('known');
  });

  const amount = fc.oneof(
    fc.integer({ min: 0, max: 64 }),
    fc.record(
      {
        min: fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
        max: fc.option(fc.integer({ min: 0, max: 64 }), { nil: undefined }),
      },
      { requiredKeys: [] },
    ),
  );
  const arch = fc.constantFrom('x86_64', 'aarch64');
  const hwArb = fc.record({ cpu: amount, memoryMb: amount, storageGb: amount, arch }, { requiredKeys: [] });
  const profilesArb = fc.uniqueArray(
    fc.record({
      id: fc.uuid(),
      cpu: fc.integer({ min: 0, max: 64 }),
      memoryMb: fc.integer({ min: 0, max: 64 }),
      storageGb: fc.integer({ min: 0, max: 64 }),
      arch,
      costPerHour: fc.option(
        fc.integer({ min: 0, max: 100 }).map((c) => c / 10),
        { nil: null },
      ),
    }),
    { selector: (p) => p.id, maxLength: 30 },
  );

  it('never picks a profile smaller than asked (or larger than allowed, or of another arch)', () => {
    fc.assert(
      fc.property(hwArb, profilesArb, (hw, profiles) => {
        const { chosen, matches } = matchHardwareProfile(hw, profiles);
        for (const m of chosen ? [chosen, ...matches] : matches) {
          for (const k of ['cpu', 'memoryMb', 'storageGb'] as const) {
            const { min, max } = amountBounds(hw[k]);
            expect(m[k]).toBeGreaterThanOrEqual(min);
            expect(m[k]).toBeLessThanOrEqual(max);
          }
          if (hw.arch) expect(m.arch).toBe(hw.arch);
        }
      }),
    );
  });

  it('picks the smallest match, then the cheapest; every profile is either a match or a rejection', () => {
    fc.assert(
      fc.property(hwArb, profilesArb, (hw, profiles) => {
        const { chosen, matches, rejections } = matchHardwareProfile(hw, profiles);
        expect(matches.length + rejections.length).toBe(profiles.length);
        expect(chosen === undefined).toBe(matches.length === 0);
        for (const m of matches) {
          const smaller =
            m.cpu < chosen!.cpu ||
            (m.cpu === chosen!.cpu && m.memoryMb < chosen!.memoryMb) ||
            (m.cpu === chosen!.cpu && m.memoryMb === chosen!.memoryMb && m.storageGb < chosen!.storageGb);
          expect(smaller).toBe(false);
          if (m.cpu === chosen!.cpu && m.memoryMb === chosen!.memoryMb && m.storageGb === chosen!.storageGb) {
            expect(m.costPerHour ?? Infinity).toBeGreaterThanOrEqual(chosen!.costPerHour ?? Infinity);
          }
        }
        // A profile rejected would also be rejected on its own: rejection does not depend on the others.
        for (const r of rejections) {
          const alone = matchHardwareProfile(
            hw,
            profiles.filter((p) => p.id === r.profileId),
          );
          expect(alone.chosen).toBeUndefined();
        }
      }),
    );
  });

  it('does not depend on the order of the input', () => {
    fc.assert(
      fc.property(hwArb, profilesArb, fc.integer(), (hw, profiles, seed) => {
        const shuffled = [...profiles].sort(
          (a, b) =>
            (a.id.charCodeAt(seed % 8) ^ seed) - (b.id.charCodeAt(seed % 8) ^ seed) || compareProfiles(a, b),
        );
        expect(matchHardwareProfile(hw, shuffled).matches.map((m) => m.id)).toEqual(
          matchHardwareProfile(hw, profiles).matches.map((m) => m.id),
        );
      }),
    );
  });
});

describe(quotaExceeded.name, () => {
  const used = { instances: 3, cores: 6, memoryMb: 6144 };
  it.each([
    [{}, undefined],
    [{ maxInstances: 4 }, undefined],
    [{ maxInstances: 3 }, 'would use 4 instances, quota is 3'],
    [{ maxCores: 7 }, 'would use 8 cores, quota is 7'],
    [{ maxMemoryMb: 8192 }, undefined],
  ])('%j', (quota, expected) => {
    expect(quotaExceeded(quota, used, { instances: 1, cores: 2, memoryMb: 2048 })).toBe(expected);
  });
});
