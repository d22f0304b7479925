import { trailingComment, tourCommands } from './tour.util';

const md = [
  '# T',
  '## A five-minute tour',
  'text',
  '```sh',
  'export A=1   # first',
  '# a comment line',
  '',
  "cat > x.yaml <<'YAML'",
  'a: 1  # not a command comment',
  'YAML',
  'openstack x \\',
  '  --y   # z',
  'echo "#notacomment" # real',
  '```',
  '```yaml',
  'not: run',
  '```',
  '## Next',
  '```sh',
  'echo outside',
  '```',
].join('\n');

describe('tourCommands', () => {
  it('splits the tour section into commands, keeping here-documents and continuations whole', () => {
    const cmds = tourCommands(md);
    expect(cmds.map((c) => c.text)).toEqual([
      'export A=1   # first',
      "cat > x.yaml <<'YAML'\na: 1  # not a command comment\nYAML",
      'openstack x \\\n  --y   # z',
      'echo "#notacomment" # real',
    ]);
    expect(cmds.map((c) => c.line)).toEqual([5, 8, 11, 13]);
    expect(cmds[0].comment).toBe('first');
    expect(cmds[3].comment).toBe('real');
  });

  it('refuses a README without the section or with an unterminated here-document', () => {
    expect(() => tourCommands('# nothing')).toThrow(/A five-minute tour/);
    expect(() => tourCommands("## A five-minute tour\n```sh\ncat <<'EOF'\nno end\n```")).toThrow(
      /here-document/,
    );
  });

  it('finds a trailing comment outside quotes only', () => {
    expect(trailingComment(`echo 'a # b' # c`)).toBe('c');
    expect(trailingComment('curl http://x/#frag')).toBe('');
  });
});
