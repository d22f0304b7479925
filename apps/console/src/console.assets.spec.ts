import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONSOLE_ASSETS } from './console.assets';

describe('CONSOLE_ASSETS', () => {
  it('embeds every file of src/public as it is now (run `node apps/console/tools/embed.mjs`)', () => {
    const dir = path.join(__dirname, 'public');
    const files = readdirSync(dir).filter((f) => /\.(html|js|css)$/.test(f));
    expect(Object.keys(CONSOLE_ASSETS).sort()).toEqual(files.sort());
    for (const f of files) expect(CONSOLE_ASSETS[f]!.body).toBe(readFileSync(path.join(dir, f), 'utf8'));
  });
});
