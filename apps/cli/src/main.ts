#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { run } from './cli';

// A closed pipe (`nephele events tail -f | head`) is a normal way to stop reading, not an error.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

run(process.argv.slice(2), process.env, {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  stdin: () => readFileSync(0, 'utf8'),
  now: () => new Date(),
})
  .then((code) => {
    process.exitCode = code;
    // Idle keep-alive sockets must not hold the process open once the command is done.
    setTimeout(() => process.exit(code), 200).unref();
  })
  .catch((e: Error) => {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(1);
  });
