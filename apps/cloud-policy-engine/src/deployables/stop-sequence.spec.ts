import { DeployableDocument } from '@nephele/contracts';
import { stopOrder } from './stop-sequence';

const svc = (name: string) => ({
  name,
  class: 'process' as const,
  command: ['sleep', '1'],
  parameters: {},
  monitor: { intervalMs: 1000, timeoutMs: 1000 },
});

describe('stopOrder', () => {
  it('stops the `then` side of every order before its `first` (reverse dependency order)', () => {
    const doc: DeployableDocument = {
      name: 'd',
      pool: 'default',
      monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
      assemblies: [
        { name: 'db1', image: 'i', hardwareProfile: 'p', services: [svc('store')] },
        { name: 'web1', image: 'i', hardwareProfile: 'p', services: [svc('httpd'), svc('cache')] },
      ],
      constraints: [
        { kind: 'order', first: 'db1/store', then: 'web1/httpd' },
        { kind: 'order', first: 'web1/httpd', then: 'web1/cache' },
      ],
    };
    expect(stopOrder(doc)).toEqual(['web1/cache', 'web1/httpd', 'db1/store']);
  });

  it("stops a group's services in reverse of the group's order", () => {
    const doc: DeployableDocument = {
      name: 'd',
      pool: 'default',
      monitor: { heartbeatIntervalMs: 1000, missedHeartbeats: 3 },
      assemblies: [
        {
          name: 'web1',
          image: 'i',
          hardwareProfile: 'p',
          services: [svc('httpd'), svc('sidecar'), svc('cache')],
        },
      ],
      constraints: [],
      groups: [{ name: 'web', services: ['web1/httpd', 'web1/cache', 'web1/sidecar'] }],
    };
    expect(stopOrder(doc)).toEqual(['web1/sidecar', 'web1/cache', 'web1/httpd']);
    // Without the group: the declared order.
    expect(stopOrder({ ...doc, groups: undefined })).toEqual(['web1/httpd', 'web1/sidecar', 'web1/cache']);
  });
});
