import { runnableBlocks } from './runnable.util';

describe(runnableBlocks.name, () => {
  it('takes only the sh blocks preceded by a runs: comment', () => {
    const md = [
      '# Ops',
      '```sh',
      'echo not claimed',
      '```',
      '<!-- runs: bash -->',
      '',
      '```sh',
      'echo one',
      'echo two',
      '```',
      '<!-- runs: kubectl -->',
      '```bash',
      'kubectl version --client',
      '```',
    ].join('\n');
    expect(runnableBlocks(md)).toEqual([
      { line: 7, needs: 'bash', script: 'echo one\necho two' },
      { line: 12, needs: 'kubectl', script: 'kubectl version --client' },
    ]);
  });

  it('refuses a runs: comment on something that is not a shell block', () => {
    expect(() => runnableBlocks('<!-- runs: x -->\n```yaml\na: 1\n```\n')).toThrow(/line 1/);
  });
});
