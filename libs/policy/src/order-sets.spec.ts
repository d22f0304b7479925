import { XMLParser } from 'fast-xml-parser';
import { unpackOrderSets } from './order-sets';
import { RuleXml } from './rules';

const parse = (xml: string): RuleXml =>
  (new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { rsc_order: RuleXml }).rsc_order;

const pairs = (xml: string, known: (id: string) => boolean = () => true): string[] => {
  const refused: string[] = [];
  const out = unpackOrderSets(parse(xml), known, (w) => refused.push(w)).map((p) => `${p.first}>${p.then}${p.symmetrical ? '' : ' asym'}${p.kind === 'Mandatory' ? '' : ` ${p.kind}`}`);
  return refused.length > 0 ? refused.map((r) => `refused: ${r}`) : out;
};

const set = (id: string, members: string[], attrs = ''): string => `<resource_set id="${id}" ${attrs}>${members.map((m) => `<resource_ref id="${m}"/>`).join('')}</resource_set>`;

describe(unpackOrderSets.name, () => {
  it.each([
    ['one sequential set: each member then the next', `<rsc_order id="o">${set('s', ['A', 'B', 'C'])}</rsc_order>`, ['A>B', 'B>C']],
    ['sequential=false inside a set: no order', `<rsc_order id="o">${set('s', ['A', 'B'], 'sequential="false"')}</rsc_order>`, []],
    [
      'between sets without an explicit sequential=true: every member of both',
      `<rsc_order id="o">${set('s1', ['B', 'C'])}${set('s2', ['A'])}</rsc_order>`,
      ['B>C', 'B>A', 'C>A'],
    ],
    [
      'between sets with sequential=true: last of the first, first of the second',
      `<rsc_order id="o">${set('s1', ['A', 'B'], 'sequential="true"')}${set('s2', ['C', 'D'], 'sequential="true"')}</rsc_order>`,
      ['A>B', 'C>D', 'B>C'],
    ],
    ['asymmetrical', `<rsc_order id="o" symmetrical="false">${set('s', ['A', 'B'])}</rsc_order>`, ['A>B asym']],
    [
      'Serialize: each member before every later one, never symmetrical',
      `<rsc_order id="o" kind="Serialize" symmetrical="true">${set('s', ['A', 'B', 'C'])}</rsc_order>`,
      ['A>B asym Serialize', 'A>C asym Serialize', 'B>C asym Serialize'],
    ],
    ['require-all=false is refused', `<rsc_order id="o">${set('s1', ['A', 'B'], 'require-all="false"')}${set('s2', ['C'])}</rsc_order>`, ['refused: require-all=false on resource_set s1 in rsc_order o']],
    ['a set with its own action is refused', `<rsc_order id="o">${set('s1', ['A', 'B'], 'action="promote"')}</rsc_order>`, ['refused: action on resource_set s1 in rsc_order o']],
  ])('%s', (_name, xml, expected) => {
    expect(pairs(xml)).toEqual(expected);
  });

  it('refuses a reference to an unknown resource', () => {
    expect(pairs(`<rsc_order id="o">${set('s', ['A', 'X'])}</rsc_order>`, (id) => id === 'A')).toEqual(['refused: resource_ref X in rsc_order o (not a primitive or group)']);
  });
});
