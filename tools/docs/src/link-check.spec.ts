import { anchorsOf, checkLinks, linksOf, slugify } from './link-check';

describe('link check', () => {
  it.each([
    ['Set-up: two commands', 'set-up-two-commands'],
    ['A five-minute tour', 'a-five-minute-tour'],
    ['nephele.assembly.heartbeat_missed', 'nepheleassemblyheartbeat_missed'],
    ['What `npm test` runs (and why)', 'what-npm-test-runs-and-why'],
    ['Über Größe', 'über-größe'],
  ])('slugs %j as GitHub does: %s', (heading, slug) => {
    expect([...anchorsOf(`# ${heading}\n`)]).toEqual([slug]);
  });

  it('numbers repeated headings and reads explicit anchors', () => {
    const a = anchorsOf('## Example\ntext\n## Example\n<a id="here"></a>\n### _emph_ and snake_case\n');
    expect([...a].sort()).toEqual(['emph-and-snake_case', 'example', 'example-1', 'here']);
  });

  it('ignores links and headings inside code', () => {
    const text = [
      'see [a](a.md) and `[b](b.md)`',
      '```sh',
      '# not a heading',
      'echo [c](c.md)',
      '```',
      '[ref]: docs/x.md',
      '![img](img.png "title")',
    ].join('\n');
    expect(linksOf(text)).toEqual([
      { line: 1, target: 'a.md' },
      { line: 6, target: 'docs/x.md' },
      { line: 7, target: 'img.png' },
    ]);
    expect(anchorsOf(text).size).toBe(0);
    expect(slugify('X')).toBe('x');
  });

  it('reports missing files, missing anchors and links that leave the repository', () => {
    const files = new Map([
      [
        'README.md',
        '# Top\n[ok](docs/a.md#part) [dir](docs/) [self](#top) [web](https://x.org/y)\n[bad](docs/b.md) [anchor](docs/a.md#nope)\n[out](../shared/X.md) [selfbad](#missing)\n',
      ],
      ['docs/a.md', '## Part\n[up](../README.md#top) [abs](/docs/a.md)\n'],
    ]);
    const kindOf = (rel: string) =>
      (files.has(rel) ? 'file' : rel === 'docs' ? 'dir' : null) as 'file' | 'dir' | null;
    const problems = checkLinks(files, kindOf);
    expect(problems.map((p) => `${p.file}:${p.line} ${p.target}`)).toEqual([
      'README.md:3 docs/b.md',
      'README.md:3 docs/a.md#nope',
      'README.md:4 ../shared/X.md',
      'README.md:4 #missing',
    ]);
    expect(problems[2].message).toMatch(/leaves the repository/);
  });
});
