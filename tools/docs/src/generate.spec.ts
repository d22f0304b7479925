import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compare, generate, writeAll } from './generate';
import { parse } from 'yaml';
import { topicMatch } from './emitters.util';

const repo = path.resolve(__dirname, '../../..');
const load = (f: string): unknown => jest.requireActual(f);

describe('generated references', () => {
  const first = generate(repo, load);

  it('writes every reference, deterministically', () => {
    expect([...first.files.keys()].sort()).toEqual([
      'README.md',
      'asyncapi.yaml',
      'cli.md',
      'configuration.md',
      'deployable-format.md',
      'events.md',
    ]);
    const again = generate(repo, load);
    expect([...again.files]).toEqual([...first.files]);
  });

  it('catalogues every message type with its sender and receivers', () => {
    const events = first.files.get('events.md')!;
    expect(events).toMatch(
      /\| \[`nephele\.instance\.state_changed`\]\(#nepheleinstancestate_changed\) \| event \| `state-tracker` \| [^|]*`event-log`/,
    );
    expect(events).toContain('#### nephele.deployable.status_changed');
    const asyncapi = first.files.get('asyncapi.yaml')!;
    expect(asyncapi).toMatch(/^asyncapi: 3\.0\.0$/m);
    expect(asyncapi).toContain('address: nephele.instance.state_changed');
    expect(asyncapi).toContain('address: nephele.agent.{assemblyId}');
  });

  it('resolves every $ref of the AsyncAPI document', () => {
    const doc = parse(first.files.get('asyncapi.yaml')!) as Record<string, unknown>;
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref' && typeof x === 'string') refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    const resolve = (ref: string): unknown =>
      ref
        .slice(2)
        .split('/')
        .reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key], doc);
    expect(refs.length).toBeGreaterThan(100);
    expect(refs.filter((r) => resolve(r) === undefined)).toEqual([]);
  });

  it('documents the CLI from its own help and the deployable format from the parser', () => {
    expect(first.files.get('cli.md')).toContain('## nephele deployable apply');
    expect(first.files.get('cli.md')).toMatch(/Usage: nephele deployable apply/);
    const format = first.files.get('deployable-format.md')!;
    expect(format).toContain(
      '| `assemblies[].services[].class` | `process` \\| `systemd` \\| `lsb` \\| `ocf` | yes |',
    );
    expect(format).toContain('"heartbeatIntervalMs": 1000');
  });

  it('compare finds changed, missing and extra files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'docs-cmp-'));
    try {
      writeAll(dir, first.files);
      expect(compare(dir, first.files)).toEqual([]);
      writeFileSync(path.join(dir, 'cli.md'), 'stale');
      writeFileSync(path.join(dir, 'extra.md'), 'x');
      rmSync(path.join(dir, 'events.md'));
      expect(compare(dir, first.files)).toEqual([
        'events.md: missing',
        'cli.md: out of date',
        'extra.md: not written by the generator (remove it, or generate it)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['#', 'nephele.a.b', true],
    ['nephele.*', 'nephele.a', true],
    ['nephele.*', 'nephele.a.b', false],
    ['nephele.#.b', 'nephele.b', true],
    ['nephele.a', 'nephele.a.b', false],
  ])('topic %s matches %s: %s', (p, k, want) => expect(topicMatch(p, k)).toBe(want));
});
