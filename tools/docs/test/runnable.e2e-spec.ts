// Every shell block of docs/operations.md marked `<!-- runs: … -->` runs as written, from the
// repository root, against a throw-away PostgreSQL database (DATABASE_URL) — so the commands the
// operations guide claims to work keep working.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase } from '@nephele/testing';
import { runnableBlocks } from '../src/runnable.util';

const root = path.resolve(__dirname, '../../..');
const doc = 'docs/operations.md';
const blocks = runnableBlocks(readFileSync(path.join(root, doc), 'utf8'));

describe(`runnable blocks of ${doc}`, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('docs_runnable');
  });
  afterAll(async () => {
    rmSync(path.join(root, 'nephele.dump'), { force: true });
    await db?.drop();
  });

  it('has blocks that claim to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((b) => [b.line, b.needs, b.script] as const))(
    'line %i (needs %s) exits 0',
    (_line, _needs, script) => {
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
