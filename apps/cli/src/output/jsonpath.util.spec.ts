import { evaluateJsonPath, renderJsonPath } from './jsonpath.util';

describe('jsonpath', () => {
  const list = [
    { id: 'a', name: 'web', tags: ['x', 'y'], nested: { n: 1 } },
    { id: 'b', name: 'db', tags: [], nested: { n: 2 } },
  ];

  it.each([
    ['{.items[*].name}', ['web', 'db']],
    ['$[*].name', ['web', 'db']],
    ['[0].tags[-1]', ['y']],
    ['.items[1].nested.n', [2]],
    ["[0]['name']", ['web']],
    ['[*].nested.*', [1, 2]],
    ['.items[*].missing', []],
  ])('%s selects %j', (expr, expected) => {
    expect(evaluateJsonPath(list, expr)).toEqual(expected);
  });

  it('prints strings raw and other values as JSON, one per line', () => {
    expect(renderJsonPath({ status: 'running', n: { a: 1 } }, '{.status}')).toBe('running');
    expect(renderJsonPath({ status: 'running', n: { a: 1 } }, 'n')).toBe('{"a":1}');
  });

  it('refuses what it cannot read as a usage error', () => {
    expect(() => evaluateJsonPath({}, '{.a[}')).toThrow(/--jsonpath: cannot read/);
  });
});
