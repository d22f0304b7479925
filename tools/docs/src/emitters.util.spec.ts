import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findUsage } from './emitters.util';

describe(findUsage.name, () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'docs-usage-'));
    const file = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    };
    file(
      'apps/maker/src/maker.service.ts',
      `const ASK = 'x.thing.ask';
       bus.publish(createEvent(S, ThingMade.type, {}));
       bus.request(createEvent(S, ASK, {}));
       createEvent(S, \`x.audit.\${r}.\${a}\`, {});`,
    );
    file(
      'apps/user/src/user.consumer.ts',
      `bus.subscribe({ queue: 'u', bindings: [ThingMade.type], handler });
       await bus.respond('u.ask', ['x.thing.ask'], h);
       switch (e.type) { case ThingMade.type: break; }`,
    );
    file('apps/log/src/log.consumer.ts', `bus.subscribe({ queue: 'l', bindings: ['#'] });`);
    file(
      'apps/handler/src/handler.consumer.ts',
      `class H {
         @EventPattern(ThingMade.type, { queue: Topology.queues.h }) made() {}
         @MessagePattern('x.thing.ask') ask() {}
       }`,
    );
    file(
      'libs/contracts/src/topology.ts',
      `const queues = { worker: (id: string) => q({ name: id, carries: [ThingMade.type, 'x.thing.ask'] }) } as const;`,
    );
    file('apps/worker/src/host.ts', `bus.subscribe(Topology.queues.worker(id), handler);`);
    file('apps/audit/src/audit.consumer.ts', `class A { @EventPattern('x.audit.#') all() {} }`);
    file('apps/user/src/user.spec.ts', `createEvent(S, ThingMade.type, {});`);
    file('libs/contracts/src/thing.ts', `createEvent(S, ThingMade.type, {});`);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('tells senders from receivers (subscriptions, respond, case labels, handler decorators, Topology queues), skipping tests and the contracts themselves', () => {
    const usage = findUsage(root, ['x.thing.made', 'x.thing.ask', 'x.audit.*'], {
      definitions: new Map([['ThingMade', 'x.thing.made']]),
      strings: new Map(),
    });
    const plain = Object.fromEntries(
      [...usage].map(([t, u]) => [t, { senders: [...u.senders].sort(), receivers: [...u.receivers].sort() }]),
    );
    expect(plain).toEqual({
      'x.thing.made': { senders: ['maker'], receivers: ['handler', 'log', 'user', 'worker'] },
      'x.thing.ask': { senders: ['maker'], receivers: ['handler', 'log', 'user', 'worker'] },
      'x.audit.*': { senders: ['maker'], receivers: ['audit', 'log'] },
    });
  });
});
