import { CloudEvent, createEvent } from '@nephele/contracts';
import { MemoryBus } from './memory.bus';
import { OutboxRelay, OutboxRow, OutboxStore } from './outbox';
import { Bus } from './bus.types';

/** An outbox table in memory: the relay's contract without a database. */
class InMemoryOutbox implements OutboxStore {
  rows: (OutboxRow & { sentAt?: Date })[] = [];
  private seq = 0;
  failMarkOnce = false;
  add(event: CloudEvent, exchange = 'nephele.events'): void {
    this.rows.push({ seq: String(++this.seq), exchange, event });
  }
  async pending(limit: number): Promise<OutboxRow[]> {
    return this.rows.filter((r) => !r.sentAt).slice(0, limit);
  }
  async markSent(seqs: string[]): Promise<void> {
    if (this.failMarkOnce) {
      this.failMarkOnce = false;
      throw new Error('database went away');
    }
    for (const r of this.rows) if (seqs.includes(r.seq)) r.sentAt = new Date();
  }
  async purgeSentBefore(cutoff: Date): Promise<number> {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => !r.sentAt || r.sentAt >= cutoff);
    return before - this.rows.length;
  }
}

/** Records what reached the bus; can refuse publishes like a broker that nacks. */
class RecordingBus extends MemoryBus {
  published: CloudEvent[] = [];
  refuse = 0;
  override async publishAll(events: CloudEvent[]): Promise<void> {
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('nack');
    }
    this.published.push(...events);
  }
}

const ev = (n: number) =>
  createEvent('test', 'nephele.group.scaled', { groupId: `g${n}`, from: 0, to: n, reason: 'test' });

describe(OutboxRelay.name, () => {
  let store: InMemoryOutbox;
  let bus: RecordingBus;
  let sut: OutboxRelay;

  beforeEach(() => {
    store = new InMemoryOutbox();
    bus = new RecordingBus();
    sut = new OutboxRelay(store, bus as unknown as Bus, { batchSize: 3, pollMs: 10 });
  });
  afterEach(async () => sut.stop());

  it('publishes pending rows in order, in batches, and marks them sent', async () => {
    for (let i = 1; i <= 7; i++) store.add(ev(i));
    expect(await sut.drain()).toBe(7);
    expect(bus.published.map((e) => (e.data as { to: number }).to)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await store.pending(100)).toEqual([]);
  });

  it('leaves rows pending when the broker refuses them, and publishes them on the next pass', async () => {
    store.add(ev(1));
    bus.refuse = 1;
    await expect(sut.drain()).rejects.toThrow('nack');
    expect(await store.pending(10)).toHaveLength(1);
    expect(await sut.drain()).toBe(1);
    expect(bus.published).toHaveLength(1);
  });

  it('publishes again after a crash between confirm and mark (at least once, same ids)', async () => {
    store.add(ev(1));
    store.failMarkOnce = true;
    await expect(sut.drain()).rejects.toThrow('database went away');
    await sut.drain();
    expect(bus.published).toHaveLength(2);
    expect(bus.published[0]!.id).toBe(bus.published[1]!.id);
  });

  it('relays on its own after start and after a nudge', async () => {
    sut.start();
    store.add(ev(1));
    sut.nudge();
    await waitUntil(() => bus.published.length === 1);
    store.add(ev(2));
    await waitUntil(() => bus.published.length === 2);
  });

  it('holds its loop until every hold is released, then publishes what is pending', async () => {
    const first = sut.hold();
    const second = sut.hold();
    sut.start();
    store.add(ev(1));
    sut.nudge();
    await new Promise((r) => setTimeout(r, 100)); // ten polls
    expect(bus.published).toHaveLength(0);
    first();
    first(); // releasing twice counts once
    await new Promise((r) => setTimeout(r, 50));
    expect(bus.published).toHaveLength(0);
    second();
    await waitUntil(() => bus.published.length === 1);
    // drain() publishes even while held (a caller that must announce something first).
    sut.hold();
    store.add(ev(2));
    expect(await sut.drain()).toBe(1);
  });

  it('keeps retrying with backoff while the broker is down', async () => {
    bus.refuse = 2;
    store.add(ev(1));
    sut.start();
    await waitUntil(() => bus.published.length === 1, 5000);
    expect(bus.refuse).toBe(0);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
