// Runs one benchmark module and prints its rows on a marker line for tools/bench.mjs.
import path from 'node:path';
import type { Benchmark, BenchRow } from './bench.types';

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name) throw new Error('usage: run-one.ts <benchmark>');
  const mod = (await import(path.join(__dirname, `${name}.bench.ts`))) as { default: Benchmark };
  const rows: BenchRow[] = await mod.default();
  process.stdout.write(`\nBENCH_ROWS ${JSON.stringify(rows)}\n`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
