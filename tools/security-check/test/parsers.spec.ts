import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { allMessageDefinitions, validateMessage } from '@nephele/contracts';
import { CibError, generateCluster, readCib, writeCib } from '@nephele/policy';
import { yamlDepth } from '@nephele/util';
// The readers under test live in apps (no @nephele alias): this project checks them from outside.
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  DeployableParseError,
  parseDeployable,
} from '../../../apps/cloud-policy-engine/src/deployables/deployable-parser';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { parseAtomPage } from '../../../apps/feed-poller/src/poller/atom.parser';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { FeedProblem } from '../../../apps/feed-poller/src/poller/feed-problem';
import { jsonWith } from './fuzz';
import { deepXml, hostileDocuments, mutated, xmlDocument } from './xml-arb';

/** The pacemaker-cloud example of shared/examples/shop.pcmk-cloud.xml. */
const DEPLOYABLE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<deployable name="shop" uuid="6f1c3a52-7d1e-4b9a-9d55-0c2f5e8b1a10" monitor="active" username="ops">
  <assemblies>
    <assembly name="db1" image="debian-12" hardware_profile="small" escalation_failures="2" escalation_period="600">
      <services>
        <service name="store" class="ocf" provider="heartbeat" type="Dummy" monitor_interval="5s" escalation_failures="3" escalation_period="60">
          <parameters><parameter name="state"><value>/var/run/shop-store.state</value></parameter></parameters>
        </service>
      </services>
    </assembly>
    <assembly name="web1" image="debian-12" hardware_profile="small">
      <services>
        <service name="httpd" class="lsb" type="shop-httpd" monitor_interval="5s">
          <parameters><parameter name="db_host"><reference assembly="db1" parameter="address"/></parameter></parameters>
        </service>
      </services>
    </assembly>
  </assemblies>
  <constraints><service_dependancy id="d" first="rsc_db1_store" then="rsc_web1_httpd"/></constraints>
</deployable>`;

const ATOM_XML = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link rel="current" href="http://x/feed/"/>
  <link rel="previous" href="http://x/feed/?marker=urn:2&amp;direction=forward"/>
  <entry><id>urn:2</id><updated>2025-01-01T00:00:02Z</updated><title>two &amp; more</title>
    <category term="type:server.create"/><content type="application/json">{"server":{"id":"s-2"}}</content></entry>
  <entry><id>urn:1</id><updated>2025-01-01T00:00:01Z</updated><content type="application/xml"><event><server id="s-1"/></event></content></entry>
</feed>`;

const cibOf = (seed: number) => {
  const c = generateCluster(seed, { nodes: [2, 3], resources: [2, 4] });
  return writeCib(c.spec, c.state, c.history, { now: c.now });
};

interface Reader {
  name: string;
  read(s: string): unknown;
  own: new (...args: never[]) => Error;
  valid: string;
}

const READERS: Reader[] = [
  {
    name: 'pacemaker-cloud XML (parseDeployable)',
    read: (s) => parseDeployable(s, 'xml'),
    own: DeployableParseError,
    valid: DEPLOYABLE_XML,
  },
  {
    name: 'deployable, format sniffed (parseDeployable)',
    read: (s) => parseDeployable(s),
    own: DeployableParseError,
    valid: DEPLOYABLE_XML,
  },
  { name: 'CIB (readCib)', read: (s) => readCib(s), own: CibError, valid: cibOf(7) },
  {
    name: 'CIB, lenient (readCib)',
    read: (s) => readCib(s, { lenient: true }),
    own: CibError,
    valid: cibOf(11),
  },
  {
    name: 'Atom (parseAtomPage)',
    read: (s) => parseAtomPage(s, { maxEntryBytes: 10_000 }),
    own: FeedProblem,
    valid: ATOM_XML,
  },
];

/** Returns normally or throws the reader's own error: anything else is a bug. */
function outcome(r: Reader, input: string): 'ok' | 'refused' {
  try {
    r.read(input);
    return 'ok';
  } catch (e) {
    if (e instanceof r.own) return 'refused';
    throw new Error(
      `${r.name} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} for input ${JSON.stringify(input.slice(0, 300))}`,
    );
  }
}

const RUNS = 300;

describe.each(READERS)('$name on hostile input', (r) => {
  it('reads its valid example', () => {
    expect(outcome(r, r.valid)).toBe('ok');
  });

  it('arbitrary strings: returns or throws its own error', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 })),
        (s) => {
          outcome(r, s);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('generated XML documents: returns or throws its own error', () => {
    fc.assert(
      fc.property(xmlDocument, (s) => {
        outcome(r, s);
      }),
      { numRuns: RUNS },
    );
  });

  it('its valid document mutated: returns or throws its own error', () => {
    fc.assert(
      fc.property(mutated(r.valid), (s) => {
        outcome(r, s);
      }),
      { numRuns: RUNS },
    );
  });

  it('a DOCTYPE or ENTITY declaration anywhere is refused, whatever else the document holds', () => {
    const decl = fc.constantFrom(
      '<!DOCTYPE x>',
      '<!doctype x [<!ENTITY a "b">]>',
      '<!ENTITY a SYSTEM "file:///etc/passwd">',
      '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">',
      '<!Entity % p "x">',
    );
    fc.assert(
      fc.property(decl, fc.integer({ min: 0, max: r.valid.length }), (d, at) => {
        const doc = r.valid.slice(0, at) + d + r.valid.slice(at);
        expect(outcome(r, doc)).toBe('refused');
      }),
      { numRuns: 100 },
    );
    for (const root of ['deployable', 'cib', 'feed']) {
      for (const doc of hostileDocuments(root)) expect(outcome(r, doc)).toBe('refused');
    }
  });

  it('deep nesting, long attributes and XInclude: returns or throws its own error', () => {
    for (const root of ['deployable', 'cib', 'feed']) {
      for (const n of [50, 1_000, 100_000]) outcome(r, deepXml(root, n));
      outcome(r, `<${root} name="${'x'.repeat(300_000)}"/>`);
      outcome(
        r,
        `<${root} xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/></${root}>`,
      );
    }
  });
});

describe('parseDeployable on other formats and objects', () => {
  const own = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof DeployableParseError)) throw e;
    }
  };
  it('YAML and JSON text, and parsed objects of any shape: returns or throws DeployableParseError', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('yaml', 'json') as fc.Arbitrary<'yaml' | 'json'>,
        (s, f) => own(() => parseDeployable(s, f)),
      ),
      { numRuns: RUNS },
    );
    const names = [
      'name',
      'pool',
      'assemblies',
      'services',
      'constraints',
      'monitor',
      'parameters',
      'ref',
      'constructor',
      '__proto__',
    ];
    fc.assert(
      fc.property(jsonWith(names), (v) => {
        own(() => parseDeployable(JSON.stringify(v) ?? 'null', 'json'));
        if (v && typeof v === 'object' && !Array.isArray(v)) own(() => parseDeployable(v));
      }),
      { numRuns: RUNS },
    );
  });

  it('deep YAML is refused at any depth of the caller’s stack (it used to abort the process)', () => {
    const deep = [
      '['.repeat(100_000) + ']'.repeat(100_000),
      '- '.repeat(100_000) + 'x',
      '{a: '.repeat(50_000) + '1' + '}'.repeat(50_000),
    ];
    const at = (k: number, doc: string): void => {
      if (k > 0) return at(k - 1, doc);
      expect(() => parseDeployable(doc, 'yaml')).toThrow(/nested deeper than 64/);
    };
    for (const k of [0, 1000, 2000, 3000]) for (const doc of deep) at(k, doc);
  });

  it('yamlDepth measures the nesting the YAML parser would build', () => {
    const depthOf = (v: unknown): number =>
      v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0;
    fc.assert(
      fc.property(jsonWith(['a', 'b', 'c']), fc.boolean(), (v, flow) => {
        const text = toYaml(v, flow ? { collectionStyle: 'flow' } : {});
        expect(yamlDepth(text)).toBe(depthOf(v));
      }),
      { numRuns: RUNS },
    );
  });

  it('YAML alias bombs and very deep documents are refused', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    expect(() => parseDeployable(levels.join('\n'), 'yaml')).toThrow(DeployableParseError);
    expect(() => parseDeployable('['.repeat(50_000) + ']'.repeat(50_000), 'yaml')).toThrow(
      DeployableParseError,
    );
    expect(() => parseDeployable(`{"name":${'['.repeat(20_000)}${']'.repeat(20_000)}}`, 'json')).toThrow(
      DeployableParseError,
    );
  });
});

describe('message validation (what the bus decoder runs on every message)', () => {
  it('validateMessage never throws, for any data under every registered type', () => {
    const types = allMessageDefinitions().map((d) => d.type.replace('*', 'x'));
    const names = ['constructor', '__proto__', 'prototype', 'id', 'project', 'state', 'labels', 'toString'];
    fc.assert(
      fc.property(fc.constantFrom(...types), jsonWith(names), (type, data) => {
        validateMessage({ specversion: '1.0', id: 'x', source: '/t', type, data });
      }),
      { numRuns: 1000 },
    );
  });
});
