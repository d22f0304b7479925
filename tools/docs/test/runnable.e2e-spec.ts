// Every shell block of the docs (README.md, docs/*.md) marked `<!-- runs: … -->` runs as written,
// from the repository root, against a throw-away PostgreSQL database (DATABASE_URL) — so the
// commands the docs claim to work keep working. docs/operations.md must have some.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase } from '@nephele/testing';
import { runnableBlocks } from '../src/runnable.util';

const root = path.resolve(__dirname, '../../..');
const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const blocks = docs.flatMap((doc) =>
  runnableBlocks(readFileSync(path.join(root, doc), 'utf8')).map((b) => ({ doc, ...b })),
);

describe('runnable shell blocks of the docs', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('docs_runnable');
  });
  afterAll(async () => {
    rmSync(path.join(root, 'nephele.dump'), { force: true });
    await db?.drop();
  });

  it('docs/operations.md has blocks that claim to run', () => {
    expect(blocks.filter((b) => b.doc === 'docs/operations.md').length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((b) => [b.doc, b.line, b.needs, b.script] as const))(
    '%s:%i (needs %s) exits 0',
    (_doc, _line, _needs, script) => {
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: db.url },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect({ status: r.status, output: r.status === 0 ? '' : `${r.stdout}\n${r.stderr}` }).toEqual({
        status: 0,
        output: '',
      });
    },
  );
});
