import { INestApplication, Module } from '@nestjs/common';
import { Ctx, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { createBus, HandlerOutcome, MemoryBus, MessageContext, Outcome } from '@nephele/bus';
import {
  AlarmTriggered,
  CloudEvent,
  createEvent,
  MetricObserved,
  MetricObservedData,
  QueueSpec,
  TokenIntrospect,
  Topology,
} from '@nephele/contracts';
import { waitFor } from '@nephele/testing';
import { createHttpApp } from '../bootstrap';
import { CoreModule } from '../core.module';
import { BUS_CLIENT } from '../tokens';
import { BusClient } from './bus.client';
import { BusConsumer } from './bus-consumer.decorator';
import { EventPattern, MessagePattern } from './bus-patterns.decorator';

const metrics: QueueSpec = {
  name: 'bus-test.metrics',
  exchange: Topology.events,
  carries: [MetricObserved.type, AlarmTriggered.type],
};
const requests: QueueSpec = {
  name: 'bus-test.requests',
  exchange: Topology.commands,
  style: 'request',
  carries: [TokenIntrospect.type],
};

const seen: { event: CloudEvent<MetricObservedData>; ctx: MessageContext }[] = [];
const alarms: CloudEvent[] = [];

@BusConsumer()
class MetricsConsumer {
  @EventPattern(MetricObserved.type, { queue: metrics })
  async observed(
    @Payload() event: CloudEvent<MetricObservedData>,
    @Ctx() ctx: MessageContext,
  ): Promise<HandlerOutcome> {
    seen.push({ event, ctx });
    // The first delivery of a value asks for a retry: the transport hands the outcome to the bus.
    if (event.data!.value === 2 && !ctx.redelivered) return Outcome.retry(10, 'try again');
    if (event.data!.value === 3) return Outcome.deadLetter('three is refused');
    return Outcome.ack();
  }

  @EventPattern(AlarmTriggered.type, { queue: metrics })
  async alarm(event: CloudEvent): Promise<HandlerOutcome> {
    alarms.push(event);
    return Outcome.ack();
  }
}

@BusConsumer()
class IntrospectResponder {
  @MessagePattern(TokenIntrospect.type, { queue: requests })
  async introspect(event: CloudEvent<{ token: string }>): Promise<unknown> {
    if (event.data!.token === 'bad') throw new RpcException('no such token');
    if (event.data!.token === 'bug') throw new Error('a bug with its own words');
    return { tokenId: event.data!.token, role: 'viewer' };
  }
}

/** A second handler of the same type on the same queue. */
@BusConsumer()
class DuplicateConsumer {
  @EventPattern(MetricObserved.type, { queue: metrics })
  async again(): Promise<HandlerOutcome> {
    return Outcome.ack();
  }
}

/** Handles one of the two types its queue carries. */
@BusConsumer()
class HalfConsumer {
  @EventPattern(MetricObserved.type, { queue: { ...metrics, name: 'bus-test.half' } })
  async observed(): Promise<HandlerOutcome> {
    return Outcome.ack();
  }
}

/** Handles a type its queue does not carry. */
@BusConsumer()
class StrayConsumer {
  @EventPattern(TokenIntrospect.type, { queue: { ...metrics, name: 'bus-test.stray' } })
  async stray(): Promise<HandlerOutcome> {
    return Outcome.ack();
  }
}

function appWith(...controllers: (new (...a: never[]) => unknown)[]): Promise<INestApplication> {
  @Module({
    imports: [CoreModule.forRoot({ service: 'bus-test', logLevel: 'silent', remoteTokens: false })],
    controllers,
  })
  class TestModule {}
  return createHttpApp(TestModule, { title: 'bus transport test' });
}

describe('BusServer (the NestJS transport over the bus)', () => {
  let app: INestApplication;
  const bus = createBus({ service: 'bus-test' }) as MemoryBus;

  beforeAll(async () => {
    app = await appWith(MetricsConsumer, IntrospectResponder);
    await app.init();
  });
  afterAll(async () => {
    await app.close();
  });

  const metric = (value: number) =>
    createEvent('bus-test', MetricObserved.type, { groupId: 'g1', metric: 'cpu', value });

  it('delivers each message to the handler of its type and applies the returned outcome', async () => {
    await bus.publish(metric(1));
    await bus.publish(createEvent('bus-test', AlarmTriggered.type, { labels: { a: 'b' } }));
    await bus.publish(metric(2));
    await waitFor(async () => seen.filter((s) => s.event.data!.value === 2).length === 2 || undefined, {
      timeoutMs: 5000,
      what: 'the retried message again',
    });
    expect(seen.map((s) => [s.event.data!.value, s.ctx.redelivered])).toEqual([
      [1, false],
      [2, false],
      [2, true],
    ]);
    expect(alarms.map((a) => a.type)).toEqual([AlarmTriggered.type]);
  });

  it('dead-letters a message its contract class refuses, before any handler runs, and a refused one with its reason', async () => {
    const before = seen.length;
    await bus.publish(
      createEvent('bus-test', MetricObserved.type, { groupId: 'g1', metric: 'cpu', value: 'high' }),
    );
    await bus.publish(metric(3));
    await waitFor(
      async () => bus.deadLetters.filter((d) => d.queue === metrics.name).length === 2 || undefined,
      {
        timeoutMs: 5000,
        what: 'two dead letters',
      },
    );
    const reasons = bus.deadLetters.filter((d) => d.queue === metrics.name).map((d) => d.reason);
    expect(reasons[0]).toContain('data.value');
    expect(reasons[1]).toBe('three is refused');
    expect(seen.slice(before).map((s) => s.event.data!.value)).toEqual([3]);
  });

  it('answers requests through the ClientProxy, errors with their message', async () => {
    const client = app.get<BusClient>(BUS_CLIENT);
    await expect(lastValueFrom(client.send(TokenIntrospect.type, { token: 't1' }))).resolves.toEqual({
      tokenId: 't1',
      role: 'viewer',
    });
    await expect(lastValueFrom(client.send(TokenIntrospect.type, { token: 'bad' }))).rejects.toThrow(
      'no such token',
    );
    await expect(lastValueFrom(client.send(TokenIntrospect.type, { token: 'bug' }))).rejects.toThrow(
      'a bug with its own words',
    );
  });

  it('refuses to start with a duplicate handler, a missing one, or one its queue does not carry', async () => {
    await expect(appWith(MetricsConsumer, DuplicateConsumer)).rejects.toThrow(
      `two handlers for ${MetricObserved.type} on queue bus-test.metrics`,
    );
    await expect(appWith(HalfConsumer)).rejects.toThrow(
      `queue bus-test.half has no handler for ${AlarmTriggered.type}`,
    );
    await expect(appWith(StrayConsumer)).rejects.toThrow(
      `queue bus-test.stray does not carry ${TokenIntrospect.type}`,
    );
  });
});
