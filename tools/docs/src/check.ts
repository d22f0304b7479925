// The docs checks of the lint tier (`npx nx lint docs`): every relative link and anchor of every
// Markdown file resolves (see Note [Link check]), the generated references under
// docs/reference/ are what `npm run docs:generate` would write now (see Note [Generated docs]).
// That every operation of every service's `/docs` has its request body's schema, a success schema
// and its documented 4xx (Note [OpenAPI responses]) is checked beside it in the lint tier by
// `tools/arch/openapi-gaps.ts --check`.
import path from 'node:path';
import { checkFresh } from './generate';
import { checkRepository } from './link-check';

const root = path.resolve(__dirname, '../../..');
let t0 = Date.now();
let stale: string[];
try {
  stale = checkFresh(root);
} catch (e) {
  // A generator that cannot read the code any more (a renamed export, a moved file) is a failure
  // to fix in tools/docs, said plainly rather than as a stack trace.
  stale = [`(the generator failed: ${(e as Error).stack ?? String(e)})`];
}
for (const s of stale) console.error(`docs/reference/${s}`);
if (stale.length)
  console.error('generated docs are out of date: run `npm run docs:generate` and commit docs/reference/');
console.log(`docs: generated references ${stale.length ? 'OUT OF DATE' : 'current'} (${Date.now() - t0} ms)`);
t0 = Date.now();
const links = checkRepository(root);
for (const p of links.problems) console.error(`${p.file}:${p.line}: ${p.target}: ${p.message}`);
console.log(
  `docs: ${links.files} Markdown files, ${links.links} links, ${links.problems.length} broken (${Date.now() - t0} ms)`,
);

if (stale.length || links.problems.length) process.exitCode = 1;
