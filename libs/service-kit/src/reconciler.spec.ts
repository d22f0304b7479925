import {
  executeGraph,
  executeInOrder,
  Reconciler,
  ReconcileResult as R,
  ReconcileResult,
  runReconcile,
  worstOf,
} from './reconciler';

describe('worstOf', () => {
  it.each<[string, ReconcileResult[], ReconcileResult]>([
    ['nothing is done', [], R.done()],
    ['all done', [R.done(), R.done()], R.done()],
    ['a requeue beats done', [R.done(), R.requeueAfter(50)], R.requeueAfter(50)],
    [
      'the shortest requeue wins',
      [R.requeueAfter(50), R.requeueAfter(10, 'soon')],
      R.requeueAfter(10, 'soon'),
    ],
    ['terminal beats everything', [R.requeueAfter(5), R.terminal('gone'), R.done()], R.terminal('gone')],
  ])('%s', (_, results, expected) => {
    expect(worstOf(results)).toEqual(expected);
  });
});

describe(runReconcile.name, () => {
  const counter = (
    steps: number[],
    fail?: number,
  ): Reconciler<string, { n: number }, number> & { ran: number[] } => {
    const ran: number[] = [];
    return {
      ran,
      gather: async (key) => (key === 'gone' ? undefined : { n: steps.length }),
      plan: () => ({ steps, result: steps.length ? undefined : R.requeueAfter(30_000, 'look again') }),
      execute: (s) =>
        executeInOrder(s, async (x) => {
          ran.push(x);
          return x === fail ? R.requeueAfter(100, `step ${x} waits`) : R.done();
        }),
    };
  };

  it('runs every step in order and is done', async () => {
    const sut = counter([1, 2, 3]);
    expect(await runReconcile(sut, 'a')).toEqual(R.done());
    expect(sut.ran).toEqual([1, 2, 3]);
  });

  it('stops at the first step not done and returns its result', async () => {
    const sut = counter([1, 2, 3], 2);
    expect(await runReconcile(sut, 'a')).toEqual(R.requeueAfter(100, 'step 2 waits'));
    expect(sut.ran).toEqual([1, 2]);
  });

  it("returns the plan's own result when there are no steps", async () => {
    expect(await runReconcile(counter([]), 'a')).toEqual(R.requeueAfter(30_000, 'look again'));
  });

  it('is done when the object is gone', async () => {
    const sut = counter([1]);
    expect(await runReconcile(sut, 'gone')).toEqual(R.done());
    expect(sut.ran).toEqual([]);
  });

  it('requeues after the error delay when a stage throws, and logs it', async () => {
    const warnings: string[] = [];
    const sut: Reconciler<void, number, never> = {
      gather: () => Promise.reject(new Error('database down')),
      plan: () => ({ steps: [] }),
      execute: () => Promise.resolve(R.done()),
    };
    const r = await runReconcile(sut, undefined, {
      errorDelayMs: 700,
      log: { warn: (_, m) => warnings.push(m) },
      name: 'poll',
    });
    expect(r).toEqual(R.requeueAfter(700, 'database down'));
    expect(warnings).toEqual(['poll failed']);
  });
});

describe(executeGraph.name, () => {
  const step = (id: string, ...after: string[]) => ({ id, after });

  it('runs steps after their predecessors, a wave at a time', async () => {
    const ran: string[] = [];
    const r = await executeGraph([step('c', 'a', 'b'), step('a'), step('b', 'a')], async (s) => {
      ran.push(s.id);
      return R.done();
    });
    expect(r).toEqual(R.done());
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('starts no further wave after a step that is not done', async () => {
    const ran: string[] = [];
    const r = await executeGraph([step('a'), step('x'), step('b', 'a')], async (s) => {
      ran.push(s.id);
      return s.id === 'x' ? R.terminal('x cannot') : R.done();
    });
    expect(r).toEqual(R.terminal('x cannot'));
    expect(ran).toEqual(['a', 'x']);
  });

  it('asks to be run again when steps wait for a step that is not in the graph', async () => {
    const r = await executeGraph([step('b', 'missing')], async () => R.done());
    expect(r.kind).toBe('requeue-after');
  });
});
