import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeployableParseError, parseDeployable } from './deployable-parser';

const examples = path.resolve(__dirname, '../../../../examples');

/** A one-assembly manifest as a plain object (sent as JSON). */
function oneAssemblyManifest(): object {
  return {
    name: 'shop',
    assemblies: [
      {
        name: 'web1',
        image: 'i',
        hardwareProfile: 'h',
        services: [{ name: 'cache', class: 'process', command: ['cache'] }],
      },
    ],
  };
}

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

  it('refuses orders that form a loop, through a group too, naming the constraint', () => {
    const doc = (constraints: object[], groups?: object[]) => ({
      name: 'loop',
      assemblies: [
        {
          name: 'a1',
          image: 'i',
          hardwareProfile: 'h',
          services: ['x', 'y', 'z'].map((name) => ({ name, class: 'ocf', provider: 'heartbeat', type: 'Dummy' })),
        },
      ],
      constraints,
      ...(groups ? { groups } : {}),
    });
    expect(
      errorsOf(doc([{ order: { first: 'a1/x', then: 'a1/y' } }, { order: { first: 'a1/y', then: 'a1/z' } }, { order: { first: 'a1/z', then: 'a1/x' } }])),
    ).toEqual([{ field: 'constraints[0]', message: 'orders form a loop (a1/x → a1/y → a1/z → a1/x)' }]);
    expect(errorsOf(doc([{ order: { first: 'a1/y', then: 'a1/x' } }], [{ name: 'g', services: ['a1/x', 'a1/y'] }]))).toEqual([
      { field: 'constraints[0]', message: 'orders form a loop (a1/y → a1/x → a1/y)' },
    ]);
    expect(() => parseDeployable(doc([{ order: { first: 'a1/x', then: 'a1/y' } }, { order: { first: 'a1/x', then: 'a1/z' } }]))).not.toThrow();
  });

  it('refuses malformed YAML and JSON with a clear message', () => {
    expect(errorsOf('name: [unclosed')[0]!.message).toMatch(/YAML/);
    expect(errorsOf('{"name": ')[0]!.message).toMatch(/JSON/);
  });

  describe('groups', () => {
    const yaml = (groups: string) => `
name: shop
assemblies:
  - name: db1
    image: i
    hardwareProfile: h
    services:
      - { name: store, class: ocf, provider: heartbeat, type: Dummy }
  - name: web1
    image: i
    hardwareProfile: h
    services:
      - { name: httpd, class: process, command: [httpd] }
      - { name: cache, class: process, command: [cache] }
${groups}
`;

    it('reads groups from YAML and JSON, services in start order', () => {
      const doc = parseDeployable(yaml('groups:\n  - { name: web, services: [web1/httpd, web1/cache] }'));
      expect(doc.groups).toEqual([{ name: 'web', services: ['web1/httpd', 'web1/cache'] }]);
      const json = parseDeployable(
        JSON.stringify({ ...oneAssemblyManifest(), groups: [{ name: 'w', services: ['web1/cache'] }] }),
      );
      expect(json.groups).toEqual([{ name: 'w', services: ['web1/cache'] }]);
      expect(parseDeployable(yaml('')).groups).toBeUndefined();
    });

    it.each([
      [
        '[{ name: web, services: [web1/httpd, web1/x] }]',
        'groups[0].services[1]',
        'no service "x" on assembly web1',
      ],
      [
        '[{ name: web, services: [web1/httpd, db1/store] }]',
        'groups[0].services[1]',
        'a group runs on one assembly: db1/store is not on web1, where web1/httpd is',
      ],
      [
        '[{ name: a, services: [web1/httpd] }, { name: b, services: [web1/cache, web1/httpd] }]',
        'groups[1].services[1]',
        'web1/httpd is already in group a',
      ],
      [
        '[{ name: a, services: [web1/httpd, web1/httpd] }]',
        'groups[0].services[1]',
        'web1/httpd is listed twice in this group',
      ],
      [
        '[{ name: a, services: [httpd] }]',
        'groups[0].services[0]',
        'write the service as <assembly>/<service>, not "httpd"',
      ],
      [
        '[{ name: a, services: [web1/httpd] }, { name: a, services: [web1/cache] }]',
        'groups[1].name',
        'group a is defined twice',
      ],
    ])('refuses %s naming the field', (groups, field, message) => {
      expect(errorsOf(yaml(`groups: ${groups}`))).toEqual([{ field, message }]);
    });

    it('refuses a group whose services may not run on the same assemblies (it moves as one)', () => {
      const manifest = (cachePlacement?: string[]) => ({
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
                command: ['httpd'],
                placement: { assemblies: ['web2', 'web1'] },
              },
              {
                name: 'cache',
                class: 'process',
                command: ['cache'],
                ...(cachePlacement ? { placement: { assemblies: cachePlacement } } : {}),
              },
            ],
          },
          { name: 'web2', image: 'i', hardwareProfile: 'h' },
        ],
        groups: [{ name: 'web', services: ['web1/httpd', 'web1/cache'] }],
      });
      expect(errorsOf(manifest())).toEqual([
        {
          field: 'groups[0].services[1]',
          message:
            'a group moves as one: web1/cache may run on [web1], web1/httpd on [web1, web2] (give them the same placement)',
        },
      ]);
      expect(parseDeployable(manifest(['web1', 'web2'])).groups).toHaveLength(1);
    });

    it('refuses an empty group, a nameless one and unknown fields through the DTO', () => {
      const fields = errorsOf(
        yaml(
          'groups: [{ name: web, services: [] }, { services: [web1/httpd] }, { name: c, services: [web1/cache], colour: x }]',
        ),
      ).map((e) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining(['groups[0].services', 'groups[1].name', 'groups[2].colour']),
      );
    });
  });
});
