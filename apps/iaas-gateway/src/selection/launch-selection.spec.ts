import { BrokerConfigSnapshot } from '@nephele/broker';
import { LaunchAsk, resolveTarget, selectForLaunch } from './launch-selection';

const stamp = { version: 1, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
const pool = (id: string, project: string, enabled = true) => ({
  ...stamp,
  id,
  project,
  name: id,
  description: null,
  familyId: 'fam',
  enabled,
  quota: {},
});
const named = (id: string, project: string) => ({ ...stamp, id, project, name: `${id}-name` });
const snapshot: BrokerConfigSnapshot = {
  generatedAt: stamp.createdAt,
  providers: [],
  providerProfiles: [],
  realms: [],
  providerAccounts: [],
  poolFamilies: [
    { ...stamp, id: 'fam', project: 'p', name: 'fam', description: null, accountIds: ['a1'], quota: {} },
  ],
  pools: [pool('web', 'p'), pool('off', 'p', false), pool('other', 'q')],
  hardwareProfiles: [
    { ...named('small', 'p'), cpu: 1, memoryMb: 512, storageGb: null, arch: null },
    { ...named('big', 'q'), cpu: 8, memoryMb: 8192, storageGb: null, arch: null },
  ],
  images: [
    { ...named('debian', 'p'), os: null, arch: null, description: null },
    { ...named('alpine', 'q'), os: null, arch: null, description: null },
  ],
  imageMappings: [],
};
const ask = (a: Partial<LaunchAsk> = {}): LaunchAsk => ({
  pool: 'web',
  hardwareProfile: 'small',
  image: 'debian',
  ...a,
});

describe(resolveTarget.name, () => {
  it.each<[string, Partial<LaunchAsk>, string]>([
    ['an unknown pool', { pool: 'nope' }, 'pool nope not found'],
    ["another project's pool", { pool: 'other', project: 'p' }, 'pool other not found in project p'],
    ['a disabled pool', { pool: 'off' }, 'pool off is disabled'],
    [
      "a hardware profile of another project than the pool's",
      { hardwareProfile: 'big' },
      "hardware profile big not found in the pool's project",
    ],
    [
      "an image of another project than the pool's",
      { image: 'alpine' },
      "image alpine not found in the pool's project",
    ],
  ])('refuses %s, saying which', (_, a, error) => {
    expect(resolveTarget(snapshot, ask(a))).toEqual({ error });
  });

  it('resolves by id or by name, with the accounts of the pool family', () => {
    const t = resolveTarget(snapshot, ask({ hardwareProfile: 'small-name', image: 'debian', project: 'p' }));
    expect(t).toMatchObject({
      pool: { id: 'web' },
      hardwareProfile: { id: 'small' },
      image: { id: 'debian' },
      familyAccountIds: ['a1'],
    });
  });
});

describe(selectForLaunch.name, () => {
  it('says why nothing can be tried when the family has no usable account', () => {
    const t = resolveTarget(snapshot, ask());
    if ('error' in t) throw new Error(t.error);
    const zero = { instances: 0, cores: 0, memoryMb: 0 };
    const s = selectForLaunch(
      snapshot,
      t,
      {
        mappings: new Map(),
        usage: { byAccount: new Map(), pool: zero, family: zero },
        recentFailures: new Map(),
        seed: 'k',
      },
      3,
    );
    expect(s.tries).toEqual([]);
    expect(s.none).toMatch(/^no provider account can take it: /);
  });
});
