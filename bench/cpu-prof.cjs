// Preloaded with NODE_OPTIONS=--require (Node 20 refuses --cpu-prof there): profiles the process
// from start to exit and writes a .cpuprofile (open in Chrome DevTools or speedscope) into
// $BENCH_CPU_PROF.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_CPU_PROF;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // An in-process session answers synchronously, so this still runs before the exit.
    session.post('Profiler.stop', (err, r) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      const name = `${path.basename(path.dirname(process.argv[1] ?? 'node'))}-${process.pid}.cpuprofile`;
      fs.writeFileSync(path.join(dir, name), JSON.stringify(r.profile));
    });
  };
  process.on('exit', write);
  // NestJS re-raises the signal on itself after its shutdown hooks: no 'exit' event then.
  const kill = process.kill.bind(process);
  process.kill = (pid, signal) => {
    if (pid === process.pid) write();
    return kill(pid, signal);
  };
}
