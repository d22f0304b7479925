import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeployableParseError, parseDeployable } from './deployable-parser';

const examples = path.resolve(__dirname, '../../../../examples');

function errorsOf(input: string | object): { field: string; message: string }[] {
  try {
    parseDeployable(input);
  } catch (e) {
    if (e instanceof DeployableParseError)
      return e.errors.length ? e.errors : [{ field: '', message: e.message }];
    throw e;
  }
  throw new Error('parsed without error');
}

describe('parseDeployable', () => {
  it('reads the YAML example', () => {
    const doc = parseDeployable(readFileSync(path.join(examples, 'shop.deployable.yaml'), 'utf8'));
    expect(doc.name).toBe('shop');
    expect(doc.monitor).toEqual({ heartbeatIntervalMs: 1000, missedHeartbeats: 3 });
    expect(doc.assemblies.map((a) => a.name)).toEqual(['db1', 'web1']);
    const httpd = doc.assemblies[1]!.services[0]!;
    expect(httpd).toMatchObject({
      name: 'httpd',
      class: 'process',
      command: ['python3', '-m', 'http.server', '8080'],
      parameters: { db_host: { ref: { assembly: 'db1', parameter: 'address' } } },
      monitor: { intervalMs: 5000, timeoutMs: 2000, http: { port: 8080, path: '/' } },
      escalation: { failures: 3, periodMs: 60_000 },
      placement: { assemblies: ['web1'] },
    });
    expect(doc.assemblies[0]!.escalation).toEqual({ failures: 2, periodMs: 600_000 });
    expect(doc.constraints).toEqual([{ kind: 'order', first: 'db1/store', then: 'web1/httpd' }]);
  });

  it('reads the pacemaker-cloud XML example into the same shape', () => {
    const doc = parseDeployable(readFileSync(path.join(examples, 'shop.pcmk-cloud.xml'), 'utf8'));
    expect(doc.name).toBe('shop');
    expect(doc.assemblies.map((a) => [a.name, a.image, a.hardwareProfile])).toEqual([
      ['db1', 'debian-12', 'small'],
      ['web1', 'debian-12', 'small'],
    ]);
    expect(doc.assemblies[0]!.services[0]).toMatchObject({
      name: 'store',
      class: 'ocf',
      provider: 'heartbeat',
      type: 'Dummy',
      parameters: { state: '/var/run/shop-store.state' },
      monitor: { intervalMs: 5000 },
      escalation: { failures: 3, periodMs: 60_000 },
    });
    expect(doc.assemblies[0]!.escalation).toEqual({ failures: 2, periodMs: 600_000 });
    expect(doc.assemblies[1]!.services[0]!.parameters.db_host).toEqual({
      ref: { assembly: 'db1', parameter: 'address' },
    });
    expect(doc.constraints).toEqual([
      { kind: 'order', id: 'store-before-httpd', first: 'db1/store', then: 'web1/httpd' },
    ]);
  });

  it('refuses an XML bomb and external entities without expanding anything', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><deployable name="x">&lol2;</deployable>`;
    expect(errorsOf(bomb)[0]!.message).toMatch(/DOCTYPE|ENTITY/);
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><deployable name="&x;"/>`;
    expect(errorsOf(xxe)[0]!.message).toMatch(/DOCTYPE|ENTITY/);
  });

  it('refuses malformed XML and an oversized body', () => {
    expect(errorsOf('<deployable name="x"><assemblies></deployable>')[0]!.field).toBe('xml');
    expect(() => parseDeployable('#'.repeat(1_000_001))).toThrow(/at most/);
  });

  it('names each bad field: unknown fields, unknown references, bad durations', () => {
    const errs = errorsOf({
      name: 'shop',
      colour: 'blue',
      assemblies: [
        {
          name: 'web1',
          image: 'i',
          hardwareProfile: 'h',
          services: [
            {
              name: 'httpd',
              class: 'process',
              command: ['x'],
              parameters: { db: { ref: { assembly: 'nope', parameter: 'address' } } },
            },
            { name: 'bad', class: 'ocf', type: 'Dummy', monitor: { interval: 'soon' } },
          ],
        },
      ],
      constraints: [{ order: { first: 'db1/store', then: 'web1/httpd' } }],
    }).map((e) => e.field);
    expect(errs).toEqual(expect.arrayContaining(['colour', 'assemblies[0].services[1].monitor.interval']));
    const errs2 = errorsOf({
      name: 'shop',
      assemblies: [
        {
          name: 'web1',
          image: 'i',
          hardwareProfile: 'h',
          services: [
            {
              name: 'httpd',
              class: 'process',
              command: ['x'],
              parameters: { db: { ref: { assembly: 'nope', parameter: 'address' } } },
            },
            { name: 'store', class: 'ocf', type: 'Dummy' },
          ],
        },
      ],
      constraints: [{ order: { first: 'db1/store', then: 'web1/httpd' } }],
    }).map((e) => e.field);
    expect(errs2).toEqual(
      expect.arrayContaining([
        'assemblies[0].services[0].parameters.db.ref.assembly',
        'assemblies[0].services[1].provider',
        'constraints[0].first',
      ]),
    );
  });

  it('refuses malformed YAML and JSON with a clear message', () => {
    expect(errorsOf('name: [unclosed')[0]!.message).toMatch(/YAML/);
    expect(errorsOf('{"name": ')[0]!.message).toMatch(/JSON/);
  });
});
