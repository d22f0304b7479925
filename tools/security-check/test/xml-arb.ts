import fc from 'fast-check';

const escape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Names an XML reader of Nephele looks for, mixed with random ones. */
export const XML_NAMES = [
  // pacemaker-cloud deployables
  'deployable',
  'assemblies',
  'assembly',
  'services',
  'service',
  'parameters',
  'parameter',
  'value',
  'reference',
  'constraints',
  'service_dependancy',
  // CIB
  'cib',
  'configuration',
  'crm_config',
  'cluster_property_set',
  'nvpair',
  'nodes',
  'node',
  'resources',
  'primitive',
  'meta_attributes',
  'instance_attributes',
  'rsc_location',
  'rsc_colocation',
  'rsc_order',
  'status',
  'node_state',
  'lrm',
  'lrm_resources',
  'lrm_resource',
  'lrm_rsc_op',
  'group',
  'clone',
  // Atom
  'feed',
  'entry',
  'id',
  'updated',
  'published',
  'title',
  'summary',
  'category',
  'content',
  'link',
  'atom:feed',
  'atom:entry',
];

export const XML_ATTRIBUTES = [
  'name',
  'id',
  'uuid',
  'class',
  'provider',
  'type',
  'image',
  'hardware_profile',
  'escalation_failures',
  'escalation_period',
  'monitor_interval',
  'command',
  'first',
  'then',
  'assembly',
  'parameter',
  'value',
  'score',
  'rsc',
  'with-rsc',
  'uname',
  'operation',
  'rc-code',
  'term',
  'scheme',
  'href',
  'rel',
  'xmlns',
  'xmlns:atom',
];

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    'INFINITY',
    '-INFINITY',
    '0',
    '-1',
    '10s',
    '1e999',
    'NaN',
    '&amp;',
    '&#x41;',
    '&#0;',
    '&#xD800;',
  ),
);
const name = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...XML_NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.:-]{0,8}$/) },
);
const attrName = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...XML_ATTRIBUTES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/) },
);

/** Well-formed documents (mostly): random trees of the readers' own element and attribute names. */
export const xmlTree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text.map(escape),
    fc.string({ maxLength: 20 }).map((t) => `<![CDATA[${t.replace(/]]>/g, '')}]]>`),
    fc.string({ maxLength: 20 }).map((t) => `<!--${t.replace(/--/g, '')}-->`),
    fc
      .tuple(
        name,
        fc.uniqueArray(fc.tuple(attrName, text), { maxLength: 5, selector: ([k]) => k }),
        fc.array(tie('node'), { maxLength: 5 }),
      )
      .map(([n, attrs, kids]) => {
        const a = attrs.map(([k, v]) => ` ${k}="${escape(v)}"`).join('');
        return kids.length ? `<${n}${a}>${kids.join('')}</${n}>` : `<${n}${a}/>`;
      }),
  ),
})).node;

/** A document with one of the readers' roots around a random tree. */
export const xmlDocument = fc
  .tuple(fc.constantFrom('deployable', 'cib', 'feed', 'x'), fc.boolean(), fc.array(xmlTree, { maxLength: 6 }))
  .map(
    ([root, decl, kids]) =>
      `${decl ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ''}<${root}${root === 'feed' ? ' xmlns="http://www.w3.org/2005/Atom"' : ''}>${kids.join('')}</${root}>`,
  );

/** A valid document with random edits: a slice removed, random text put in, or characters swapped. */
export function mutated(valid: string): fc.Arbitrary<string> {
  const at = fc.integer({ min: 0, max: valid.length });
  return fc.oneof(
    fc.tuple(at, at).map(([i, j]) => valid.slice(0, Math.min(i, j)) + valid.slice(Math.max(i, j))),
    fc
      .tuple(at, fc.oneof(fc.string({ maxLength: 20 }), xmlTree))
      .map(([i, t]) => valid.slice(0, i) + t + valid.slice(i)),
    fc
      .tuple(at, fc.constantFrom('<', '>', '&', '"', "'", '/', '=', '\u0000', ']]>', '<!', '<?', '\uFEFF'))
      .map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
  );
}

/** Entity-expansion bombs and external entities, in the spellings a filter might miss. */
export function hostileDocuments(root: string): string[] {
  const lol = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  return [
    // billion laughs
    `<?xml version="1.0"?><!DOCTYPE ${root} [${lol.join('')}]><${root} name="&lol9;">&lol9;</${root}>`,
    // external entities: a file, a URL, a parameter entity
    `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${root} name="x">&xxe;</${root}>`,
    `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]><${root}>&xxe;</${root}>`,
    `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><${root}/>`,
    `<!DOCTYPE ${root} SYSTEM "http://127.0.0.1:9/x.dtd"><${root}/>`,
    `<!doctype ${root} [<!entity a "b">]><${root}>&a;</${root}>`,
    `<?xml version="1.0"?>\n<!--c-->\n<!DOCTYPE\n${root}\n[\n<!ENTITY\ta\t"b">\n]>\n<${root}>&a;</${root}>`,
    `<${root}><!ENTITY a "b"></${root}>`,
  ];
}

/** Documents that are only containers nested very deep. */
export const deepXml = (root: string, n: number): string =>
  `<${root}>${'<a>'.repeat(n)}${'</a>'.repeat(n)}</${root}>`;
