// The README's "A five-minute tour", replayed as a reader types it: every command of its shell
// blocks, in order, in one bash (exports and the `nephele` alias carry over), from a directory
// standing for the repository root (its `dist` is the built one, its `.nephele` the all-in-one's
// data directory), against the all-in-one started as `npm start` starts it (generated admin
// token, seeded defaults). Two departures, both about the machine rather than the tour: the
// all-in-one listens on a free port instead of 8080 (the shell has NEPHELE_URL, and `:8080` in a
// command becomes that port), and the live tail that the reader stops with Ctrl-C is stopped after
// a few seconds. What the README says a command prints is checked where it is stable (the table
// below); commands whose effect takes a moment ("once web1 is up") are retried for a while.
import { ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApps, freePort, ServiceProcess, startSlowly, WORKSPACE_ROOT } from '@nephele/testing';
import { TourCommand, tourCommands } from '../src/tour.util';

interface Expectation {
  /** Which tour command (matched against its text). */
  command: RegExp;
  /** What its output must show. */
  output: RegExp[];
  /** Re-run it for up to this long until the output matches (the README says "once …"). */
  retryMs?: number;
  /** Exit statuses accepted besides 0. */
  status?: number[];
}

const expectations: Expectation[] = [
  { command: /deployable apply -f shop\.yaml/, output: [/shop/] },
  { command: /deployable status shop/, output: [/db1/, /web1/, /store/, /httpd/] },
  { command: /describe deployable shop/, output: [/store/, /httpd/] },
  { command: /group state web/, output: [/desired\s+3\s+active\s+3/], retryMs: 120_000 },
  { command: /events tail -f/, output: [/nephele\./], status: [130, 143] },
  { command: /events list --type 'nephele\.dpe\.\*'/, output: [/nephele\.dpe\./] },
  { command: /appliance implementation list hello-web/, output: [/port/, /url/] },
  {
    command: /cluster get blog --jsonpath/,
    output: [/^http:\/\/127\.0\.0\.1:8123\/$/m],
    retryMs: 120_000,
  },
  { command: /openstack flavor list/, output: [/small/] },
  { command: /openstack image list/, output: [/debian-12/, /sleeper/] },
  { command: /openstack server list/, output: [/vm1.*ACTIVE/] },
  { command: /openstack stack output show hello url/, output: [/^http:\/\/127\.0\.0\.1:8124\/$/m] },
  { command: /curl http:\/\/127\.0\.0\.1:8124\//, output: [/^hello$/m], retryMs: 60_000 },
];

/** Kills every process whose working directory is under `dir` (the local driver's instances are detached on purpose). */
function killUnder(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

describe('the README tour, replayed (E2E)', () => {
  let dir: string;
  let svc: ServiceProcess;
  let shell: ChildProcess;
  let port: number;
  let seq = 0;
  const commands = tourCommands(readFileSync(path.join(WORKSPACE_ROOT, 'README.md'), 'utf8'));
  const transcript: string[] = [];

  beforeAll(async () => {
    buildApps('nephele', 'agent', 'cli');
    dir = mkdtempSync(path.join(tmpdir(), 'nephele-tour-'));
    symlinkSync(path.join(WORKSPACE_ROOT, 'dist'), path.join(dir, 'dist'));
    mkdirSync(path.join(dir, '.tour'));
    port = await freePort();
    svc = await startSlowly('nephele', {
      PORT: String(port),
      NEPHELE_EDGE_PORT: String(await freePort()),
      NEPHELE_DATA_DIR: path.join(dir, '.nephele'),
      LOG_LEVEL: 'warn',
    });
    shell = spawn('bash', ['--noprofile', '--norc'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: 'C.UTF-8',
        TERM: 'dumb',
        NEPHELE_URL: `http://127.0.0.1:${port}`,
      },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    shell.stdin!.write('shopt -s expand_aliases\n');
  }, 300_000);

  afterAll(async () => {
    shell?.kill('SIGKILL');
    await svc?.kill('SIGTERM');
    if (dir) {
      killUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs one command in the shell; resolves with its exit status and output. */
  async function run(c: TourCommand, timeoutMs = 240_000): Promise<{ status: number; output: string }> {
    const n = ++seq;
    const t0 = Date.now();
    const out = path.join(dir, '.tour', `out.${n}`);
    const rc = path.join(dir, '.tour', `rc.${n}`);
    let text = c.text.replace(/(127\.0\.0\.1|localhost):8080\b/g, `127.0.0.1:${port}`);
    // The reader stops the live tail with Ctrl-C; here it is stopped after a few seconds.
    if (/Ctrl-C/.test(c.comment))
      text = `${text.replace(/#.*$/, '')} & tail_pid=$!; sleep 5; kill -TERM $tail_pid; wait $tail_pid`;
    shell.stdin!.write(
      `{\n${text}\n} > ${out} 2>&1 < /dev/null; echo $? > ${rc}.tmp && mv ${rc}.tmp ${rc}\n`,
    );
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(rc)) {
      if (Date.now() > deadline)
        throw new Error(`README line ${c.line}: \`${c.text}\` still running after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = { status: Number(readFileSync(rc, 'utf8').trim()), output: readFileSync(out, 'utf8') };
    transcript.push(`$ ${c.text}\n${result.output}[exit ${result.status}, ${Date.now() - t0} ms]`);
    return result;
  }

  it('has the tour the expectations were written for', () => {
    expect(commands.length).toBeGreaterThanOrEqual(25);
    for (const e of expectations) expect(commands.some((c) => e.command.test(c.text))).toBe(true);
  });

  it('runs every command of the tour as written, each printing what the README says', async () => {
    for (const c of commands) {
      const e = expectations.find((x) => x.command.test(c.text));
      const until = Date.now() + (e?.retryMs ?? 0);
      for (;;) {
        const r = await run(c);
        const ok =
          (r.status === 0 || (e?.status ?? []).includes(r.status)) &&
          (e?.output ?? []).every((re) => re.test(r.output));
        if (ok) break;
        if (Date.now() < until) {
          await new Promise((res) => setTimeout(res, 3000));
          continue;
        }
        throw new Error(
          `README line ${c.line}: \`${c.text}\` gave exit ${r.status}` +
            (e ? `, expected output matching ${e.output.join(' and ')}` : '') +
            `\n--- its output:\n${r.output}\n--- transcript so far:\n${transcript.slice(-12).join('\n')}`,
        );
      }
      // Step 2 says the killed web server comes back: the watch may end before the DPE has noticed,
      // so wait for the port to answer again, as a reader reloading the page would.
      if (/pkill -9 -f "http\.server 8099"/.test(c.text)) {
        await expectEventually(
          async () => (await fetch('http://127.0.0.1:8099/').catch(() => undefined))?.ok === true,
        );
      }
    }
    if (process.env.TOUR_TIMES)
      console.log(
        transcript.map((t) => `${/\[exit \d+, (\d+) ms\]$/.exec(t)?.[1]} ms  ${t.split('\n')[0]}`).join('\n'),
      );
  }, 900_000);
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the killed web server did not come back');
    await new Promise((r) => setTimeout(r, 1000));
  }
}
