import { unifiedDiff } from './diff.util';

describe('unifiedDiff', () => {
  it('is empty for the same lines', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb', ['old', 'new'])).toBe('');
  });

  it('marks removed and added lines with context and elides the rest', () => {
    const old = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'x'].join('\n');
    const now = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'y'].join('\n');
    expect(unifiedDiff(old, now, ['v1', 'file'], 1)).toBe(['--- v1', '+++ file', '@@', ' 9', '-x', '+y'].join('\n'));
  });

  it('shows insertions in place', () => {
    expect(unifiedDiff('a\nc', 'a\nb\nc', ['o', 'n'])).toBe(['--- o', '+++ n', ' a', '+b', ' c'].join('\n'));
  });
});
