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

/**
 * Ends the process once everything written has reached the reader. Writes to a pipe are
 * asynchronous: exiting straight away cut output at the pipe's 64 KiB buffer when the reader was
 * slow (`nephele events list -o json | (sleep 1; wc -c)`). A write's callback runs after every
 * earlier write was handed to the OS, so the exit waits for both streams' last callbacks. The exit
 * itself is still needed: idle keep-alive sockets would otherwise hold the process open.
 */
function exitWhenDrained(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

run(process.argv.slice(2), process.env, {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  stdin: () => readFileSync(0, 'utf8'),
  now: () => new Date(),
})
  .then(exitWhenDrained)
  .catch((e: Error) => {
    process.stderr.write(`error: ${e.message}\n`);
    exitWhenDrained(1);
  });
