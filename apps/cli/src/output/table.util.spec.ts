import { formatAmount, formatCell, renderKeyValues, renderTable } from './table.util';

describe('formatCell', () => {
  it.each([
    [null, '-'],
    [undefined, '-'],
    ['', '-'],
    ['web', 'web'],
    [3, '3'],
    [false, 'false'],
    [[], '-'],
    [['10.0.0.1', '10.0.0.2'], '10.0.0.1,10.0.0.2'],
    [{}, '-'],
    [{ maxInstances: 5 }, '{"maxInstances":5}'],
    ['2026-01-31T12:00:00.123Z', '2026-01-31T12:00:00Z'],
  ])('%j → %s', (v, want) => expect(formatCell(v)).toBe(want));
});

describe('renderTable', () => {
  it('pads columns to the widest cell under upper-case headers, without trailing spaces', () => {
    const rows = [
      { id: 'a1', name: 'default', n: 1 },
      { id: 'b22', name: null, n: 10 },
    ];
    const out = renderTable(rows, [
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => r.name },
      { header: 'count', value: (r) => r.n },
    ]);
    expect(out.split('\n')).toEqual(['ID   NAME     COUNT', 'a1   default  1', 'b22  -        10']);
  });

  it('prints the header alone for an empty list', () => {
    expect(renderTable([], [{ header: 'id', value: () => 'x' }])).toBe('ID');
  });

  it('cuts long cells and flattens new lines', () => {
    const out = renderTable(
      [{ s: 'x'.repeat(100) }, { s: 'a\nb' }],
      [{ header: 's', value: (r) => r.s, max: 10 }],
    );
    expect(out.split('\n')).toEqual(['S', `${'x'.repeat(9)}…`, 'a b']);
  });
});

describe('renderKeyValues', () => {
  it('aligns the values', () => {
    expect(renderKeyValues({ id: 'x', description: null, quota: { a: 1 } })).toBe(
      'id:           x\ndescription:  -\nquota:        {"a":1}',
    );
  });
});

describe('formatAmount', () => {
  it.each([
    [2, '2'],
    [{ min: 2, max: 4 }, '2..4'],
    [{ min: 2, max: 2 }, '2'],
    [{ min: 2 }, '2..'],
    [{ max: 2048 }, '..2048'],
    [null, '-'],
  ])('%j → %s', (v, want) => expect(formatAmount(v)).toBe(want));
});
