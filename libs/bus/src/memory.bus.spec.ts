import { createEvent, Topology } from '@nephele/contracts';
import { MemoryBus } from './memory.bus';
import { Outcome } from './bus.types';

describe(MemoryBus.name, () => {
  let sut: MemoryBus;
  beforeEach(async () => {
    sut = new MemoryBus();
    await sut.start();
  });

  it('routes by topic pattern and delivers a copy', async () => {
    const got: string[] = [];
    await sut.subscribe({
      queue: 't.a',
      exchange: Topology.events,
      bindings: ['nephele.group.*'],
      handler: async (e) => {
        got.push(e.type);
        return Outcome.ack();
      },
    });
    await sut.publish(
      createEvent('t', 'nephele.group.scaled', { groupId: 'g', from: 1, to: 2, reason: 'r' }),
    );
    await sut.publish(
      createEvent('t', 'nephele.policy.executed', {
        groupId: 'g',
        policyId: 'p',
        trigger: 'x',
        desiredBefore: 1,
        desiredAfter: 2,
      }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['nephele.group.scaled']);
  });

  it('dead-letters an invalid message with the reason and keeps consuming', async () => {
    const got: string[] = [];
    await sut.subscribe({
      queue: 't.b',
      exchange: Topology.events,
      bindings: ['#'],
      handler: async (e) => {
        got.push(e.id);
        return Outcome.ack();
      },
    });
    await sut.publish(createEvent('t', 'nephele.group.scaled', { groupId: 'g' }, { id: 'bad' }));
    await sut.publish(
      createEvent('t', 'nephele.group.scaled', { groupId: 'g', from: 1, to: 2, reason: 'r' }, { id: 'good' }),
    );
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['good']);
    expect(sut.deadLetters).toHaveLength(1);
    expect(sut.deadLetters[0]!.reason).toMatch(/data\.from/);
  });

  it('redelivers after a retry outcome, marked redelivered', async () => {
    const seen: boolean[] = [];
    await sut.subscribe({
      queue: 't.c',
      exchange: Topology.events,
      bindings: ['#'],
      handler: async (_e, ctx) => {
        seen.push(ctx.redelivered);
        return seen.length === 1 ? Outcome.retry(5) : Outcome.ack();
      },
    });
    await sut.publish(createEvent('t', 'com.example.x', {}));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([false, true]);
  });

  it('hands batches to a batch handler', async () => {
    const sizes: number[] = [];
    await sut.subscribe({
      queue: 't.d',
      exchange: Topology.events,
      bindings: ['#'],
      batchSize: 4,
      maxWaitMs: 5,
      batchHandler: async (items) => {
        sizes.push(items.length);
        return items.map(() => Outcome.ack());
      },
    });
    await sut.publishAll(Array.from({ length: 10 }, () => createEvent('t', 'com.example.x', {})));
    await new Promise((r) => setTimeout(r, 20));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('answers requests through a responder', async () => {
    await sut.respond('t.rpc', ['nephele.test.echo'], async (e) => ({ echoed: e.data }));
    const r = await sut.request(createEvent('t', 'nephele.test.echo', { x: 1 }));
    expect(r).toEqual({ echoed: { x: 1 } });
  });

  it('answers requestJson with the result as JSON bytes', async () => {
    await sut.respond('t.rpc', ['nephele.test.echo'], async (e) => ({ echoed: e.data }));
    const r = await sut.requestJson(createEvent('t', 'nephele.test.echo', { x: 'é' }));
    expect(JSON.parse(r.toString('utf8'))).toEqual({ echoed: { x: 'é' } });
  });
});
