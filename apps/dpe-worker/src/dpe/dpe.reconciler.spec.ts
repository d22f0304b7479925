import { DeployableSpec } from '@nephele/policy';
import { ReconcileResult } from '@nephele/service-kit';
import { AssemblyObservation, DpeObservation, planDpe } from './dpe.reconciler';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const spec: DeployableSpec = {
  assemblies: [{ name: 'a1' }],
  services: [],
  constraints: [],
} as unknown as DeployableSpec;

const asm = (a: Partial<AssemblyObservation> = {}): AssemblyObservation => ({
  name: 'a1',
  failed: false,
  live: false,
  destroying: [],
  ...a,
});
const observation = (o: Partial<DpeObservation> = {}): DpeObservation => ({
  at: NOW,
  spec,
  assemblies: [asm()],
  policy: { assemblies: {}, services: {} },
  history: { services: {}, assemblies: {} },
  ...o,
});
const kinds = (o: DpeObservation) =>
  planDpe(o, NOW).steps.map((s) =>
    s.kind === 'policy'
      ? 'policy'
      : `${s.kind} ${s.kind === 'destroy-instance' ? s.instanceId : s.kind === 'stop-removed' ? s.service : s.assembly}`,
  );

describe(planDpe.name, () => {
  it.each<[string, Partial<AssemblyObservation>, string[]]>([
    ['an assembly without an instance is launched', {}, ['launch a1', 'policy']],
    ['a live instance is not launched again', { live: true }, ['policy']],
    ['a launch on the way is waited for', { launchRequestedAt: NOW - 1000 }, ['policy']],
    ['a launch back-off not over waits', { retryAt: NOW + 1 }, ['policy']],
    ['a launch back-off over launches', { retryAt: NOW }, ['launch a1', 'policy']],
    ['a failed assembly is not launched (the policy replaces it)', { failed: true }, ['policy']],
    [
      'older incarnations are destroyed first',
      { live: true, destroying: ['i0'] },
      ['destroy-instance i0', 'policy'],
    ],
  ])('%s', (_, a, expected) => {
    expect(kinds(observation({ assemblies: [asm(a)] }))).toEqual(expected);
  });

  it('a failed deployable launches and plans nothing, still destroys old incarnations, and is terminal', () => {
    const o = observation({ failedReason: 'budget spent', assemblies: [asm({ destroying: ['i0'] })] });
    expect(kinds(o)).toEqual(['destroy-instance i0']);
    expect(planDpe(o, NOW).result).toEqual(ReconcileResult.terminal('budget spent'));
  });

  it('stops services the configuration no longer has after the policy, also when the deployable failed', () => {
    const removed = [{ assembly: 'a1', service: 'a1/web' }];
    expect(kinds(observation({ assemblies: [asm({ live: true })], removed }))).toEqual([
      'policy',
      'stop-removed a1/web',
    ]);
    expect(
      kinds(observation({ failedReason: 'budget spent', assemblies: [asm({ live: true })], removed })),
    ).toEqual(['stop-removed a1/web']);
  });
});
