import amqp from 'amqplib';
import fc from 'fast-check';
import { allMessageDefinitions, Topology } from '@nephele/contracts';
import { waitFor } from '@nephele/testing';
import { topicMatches } from '@nephele/util';
import { send } from './http';
import { BusMessage, invalidMessages, validMessages } from './messages';
import { Binding, listBindings, listQueues, QueueCounts } from './rabbit';
import { startWorld, World } from './world';

/** Invalid and valid messages per registered type: ~44 types, so ~350 messages. */
const INVALID_PER_TYPE = 6;
const VALID_PER_TYPE = 2;
/**
 * The event log records every event and checks only the envelope (`validate: false`): a CloudEvent
 * whose data does not fit its type is stored like any other, not dead-lettered.
 */
const ENVELOPE_ONLY = new Set(['event-log.events']);

interface DeadLetter {
  dlq: string;
  queue: string;
  reason: string;
  id: string;
}

/**
 * Bus fuzzing: random payloads under every registered message type, published with confirms to
 * `nephele.events` / `nephele.commands` (routing key = type) while every service runs as its own
 * process. Every process stays alive; invalid messages land in `<service>.dlq` with their reason;
 * once things settle, no message is left ready or unacknowledged in a service's queue.
 */
describe('bus fuzzing (E2E: every service, every registered message type)', () => {
  let w: World;
  let conn: amqp.ChannelModel;
  let ch: amqp.ConfirmChannel;
  let bindings: Binding[];
  const sent: BusMessage[] = [];
  const dead: DeadLetter[] = [];
  let settled: QueueCounts[] = [];
  const seed = Date.now() % 1_000_000;

  beforeAll(async () => {
    w = await startWorld('sec_bus');
    conn = await amqp.connect(w.vhost.url);
    ch = await conn.createConfirmChannel();
    bindings = (await listBindings(w.vhost.name)).filter((b) => b.exchange !== Topology.dlx);

    let i = 0;
    for (const d of allMessageDefinitions()) {
      sent.push(...fc.sample(invalidMessages(d), { numRuns: INVALID_PER_TYPE, seed: seed + i++ }));
    }
    for (const d of allMessageDefinitions()) {
      sent.push(...fc.sample(validMessages(d), { numRuns: VALID_PER_TYPE, seed: seed + i++ }));
    }
    for (const m of sent) {
      ch.publish(m.exchange, m.routingKey, m.content, {
        messageId: m.id,
        persistent: true,
        contentType: 'application/cloudevents+json',
      });
    }
    await ch.waitForConfirms();

    // Settle: every service queue empty and nothing in flight.
    const busy = async () =>
      (await listQueues(w.vhost.name)).filter(
        (q) => !q.name.endsWith('.dlq') && (q.ready > 0 || q.unacked > 0),
      );
    await waitFor(async () => (await busy()).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'queues to settle',
    }).catch(() => undefined);
    settled = await busy();

    for (const q of (await listQueues(w.vhost.name)).filter((x) => x.name.endsWith('.dlq'))) {
      for (;;) {
        const m = await ch.get(q.name, { noAck: true });
        if (!m) break;
        const h = (m.properties.headers ?? {}) as Record<string, unknown>;
        dead.push({
          dlq: q.name,
          queue: String(h[Topology.deadLetterQueueHeader] ?? ''),
          reason: String(h[Topology.deadLetterReasonHeader] ?? ''),
          id: String(m.properties.messageId ?? ''),
        });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await w?.stop();
  }, 60_000);

  const boundTo = (m: BusMessage) =>
    bindings
      .filter((b) => b.exchange === m.exchange && topicMatches(b.key, m.routingKey))
      .map((b) => b.queue);
  const deadIn = (m: BusMessage) => dead.filter((d) => d.id === m.id).map((d) => d.queue);

  it('publishes every kind of message under every registered type, most of them to some consumer', () => {
    const types = new Set(sent.map((m) => m.routingKey));
    expect(types.size).toBe(allMessageDefinitions().length);
    for (const kind of ['bytes', 'not a CloudEvent', 'wrong data', 'valid'])
      expect(sent.filter((m) => m.kind === kind).length).toBeGreaterThan(20);
    expect(sent.filter((m) => boundTo(m).length > 0).length).toBeGreaterThan(150);
  });

  it('keeps every service process alive and healthy', async () => {
    for (const p of w.all) {
      if (p.child?.exitCode !== null) console.log(`${p.app} exited:\n${p.output.slice(-4000)}`);
      expect({ app: p.app, exitCode: p.child?.exitCode ?? null }).toEqual({ app: p.app, exitCode: null });
      const h = await send(p.url, 'GET', '/healthz');
      expect({ app: p.app, status: h.status }).toEqual({ app: p.app, status: 200 });
    }
  });

  it('leaves no message ready or unacknowledged in the services’ queues once things settle', () => {
    if (settled.length)
      console.log(
        `seed ${seed}; queues still busy:\n${settled.map((q) => `  ${q.name} ready ${q.ready} unacked ${q.unacked}`).join('\n')}`,
      );
    expect(settled).toEqual([]);
  });

  it('dead-letters every invalid message in the DLQ of each queue it reached, with the reason', () => {
    const missing: string[] = [];
    for (const m of sent.filter((x) => x.kind !== 'valid')) {
      const got = deadIn(m);
      for (const q of boundTo(m)) {
        if (m.kind === 'wrong data' && ENVELOPE_ONLY.has(q)) continue;
        if (!got.includes(q))
          missing.push(`${m.kind} ${m.routingKey} → ${q}: ${m.content.toString('utf8').slice(0, 160)}`);
      }
    }
    if (missing.length) console.log(`seed ${seed}; not dead-lettered:\n${missing.slice(0, 30).join('\n')}`);
    expect(missing).toEqual([]);
  });

  it('names the reason and the original queue on every dead letter, in the DLQ of the queue’s service', () => {
    expect(dead.length).toBeGreaterThan(100);
    for (const d of dead) {
      expect(d.reason.length).toBeGreaterThan(0);
      expect(d.dlq).toBe(`${d.queue.split('.')[0]}.dlq`);
    }
    const reasons = new Set(dead.map((d) => d.reason.split(':')[0]));
    expect([...reasons]).toEqual(expect.arrayContaining(['malformed JSON', 'invalid CloudEvent']));
  });
});
