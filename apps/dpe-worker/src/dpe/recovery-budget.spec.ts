import { DeployableDocument } from '@nephele/contracts';
import { DeployablePlan } from '@nephele/policy';
import { backoffDelay, launchFailureReason, RecoveryBudget, serviceFailureReason } from './recovery-budget';
import { toAgentService, toPolicySpec } from './spec.mapping';

const doc: DeployableDocument = {
  name: 'd1',
  pool: 'default',
  monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
  assemblies: [
    {
      name: 'a1',
      image: 'debian-12',
      hardwareProfile: 'small',
      services: [
        {
          name: 'web',
          class: 'process',
          command: ['python3', '-m', 'http.server'],
          parameters: {},
          monitor: { intervalMs: 2000, timeoutMs: 1000, tcp: { port: 8099 } },
        },
      ],
    },
  ],
  constraints: [],
};

const restartPlan = (): DeployablePlan => ({
  status: 'recovering',
  placement: { 'a1/web': 'a1' },
  explanations: {},
  actions: [
    {
      kind: 'restart',
      id: 'restart:a1/web',
      resource: 'a1/web',
      node: 'a1',
      rung: 'restart-in-place',
      explanation: 'failure 1 of 3',
      steps: [
        {
          id: 'stop:a1/web@a1',
          op: 'stop',
          resource: 'a1/web',
          node: 'a1',
          after: [],
          action: 'restart:a1/web',
        },
        {
          id: 'start:a1/web@a1',
          op: 'start',
          resource: 'a1/web',
          node: 'a1',
          after: ['stop:a1/web@a1'],
          action: 'restart:a1/web',
        },
      ],
    },
  ],
  steps: [],
});

describe(RecoveryBudget.name, () => {
  it('backs off exponentially between attempts at the same rung, up to the maximum', () => {
    const sut = new RecoveryBudget({ ...doc, recovery: { backoff: { initialMs: 1000, maxMs: 4000 } } });
    let now = 1_000_000;
    const plan = () => {
      const p = restartPlan();
      p.steps = p.actions.flatMap((a) => a.steps);
      return p;
    };
    expect(sut.gate(plan(), now).steps).toHaveLength(2); // first attempt: at once
    const second = sut.gate(plan(), now);
    expect(second.steps).toHaveLength(0);
    expect(second.wakeAt).toBe(now + 1000);
    now += 1000;
    expect(sut.gate(plan(), now).steps).toHaveLength(2);
    expect(sut.gate(plan(), now).wakeAt).toBe(now + 2000);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay({ initialMs: 1000, maxMs: 4000 }, n))).toEqual([
      1000, 2000, 4000, 4000, 4000,
    ]);
  });

  it('fails a service once its moves are spent', () => {
    const sut = new RecoveryBudget({ ...doc, recovery: { moves: 1, backoff: { initialMs: 0, maxMs: 0 } } });
    const move = (): DeployablePlan => {
      const step = {
        id: 'start:a1/web@a2',
        op: 'start' as const,
        resource: 'a1/web',
        node: 'a2',
        after: [],
        action: 'move:a1/web',
      };
      return {
        status: 'recovering',
        placement: {},
        explanations: {},
        actions: [
          {
            kind: 'move',
            id: 'move:a1/web',
            resource: 'a1/web',
            node: 'a2',
            from: 'a1',
            rung: 'move',
            explanation: 'escalated',
            steps: [step],
          },
        ],
        steps: [step],
      };
    };
    expect(sut.gate(move(), 1000).failure).toBeUndefined();
    expect(sut.gate(move(), 2000).failure).toMatchObject({
      entity: 'service',
      name: 'a1/web',
      reason: 'RecoveryExhausted',
    });
  });

  it('names causes plainly and tells hard errors from retryable ones', () => {
    expect(serviceFailureReason('not-installed', 'ocf')).toEqual({ reason: 'AgentNotInstalled', hard: true });
    expect(serviceFailureReason('not-installed', 'process')).toEqual({
      reason: 'BinaryNotFound',
      hard: true,
    });
    expect(serviceFailureReason('check-failed', 'process')).toEqual({
      reason: 'StartCheckFailed',
      hard: false,
    });
    expect(launchFailureReason("image nosuchimage not found in the pool's project")).toEqual({
      reason: 'ImageUnknown',
      terminal: true,
    });
    expect(launchFailureReason('no provider account can take it: a: quota')).toEqual({
      reason: 'NoCapacity',
      terminal: false,
    });
  });

  it('bounds every rung by default and gives a start at least 20 s, apart from the monitor timeout', () => {
    const spec = toPolicySpec(doc);
    expect(spec.services[0]!.escalation).toEqual({ failures: 3, periodMs: 600_000 });
    expect(spec.assemblies[0]!.escalation).toEqual({ failures: 3, periodMs: 1_800_000 });
    const r = toAgentService(doc.assemblies[0]!.services[0]!, () => undefined);
    expect('spec' in r && r.spec.startTimeoutMs).toBe(20_000);
    expect('spec' in r && r.spec.monitor.timeoutMs).toBe(1000);
  });
});
