// heartbeats: deployables × 10 assemblies heartbeating every second through the AMQP 1.0 edge (an
// in-process listener standing in for RabbitMQ's plugin; generated agents), their DPEs in DPE
// host processes of their own (bench/heartbeats.host.ts, as workers run), connected to the edge
// over TCP. 1% of the assemblies are silenced at random moments. Each case prints detection
// latency (last heartbeat sent → heartbeat_missed) p50/p99, detection → first recovery command
// (the replacement's create) p99, false alarms, and each host's CPU and RSS (the host alone: not
// the agents nor the edge). Cases: one host, then two hosts splitting the same deployables (by
// deployable, as the CPE's pool places them: Note [DPE placement]). Baselines in the same run: the
// interval × misses floor that detection cannot beat, and the one-host case for the two-host one.
// Default profile: 1,000 deployables (10,000 assemblies); BENCH_PROFILE=long: 2,500 (25,000).
// The "heartbeats sent by the agents" row says whether the machine could offer the load at all:
// below 95 % of it the detection figures measure the machine, not the DPEs.
//
// Profiles (bench/cpu-prof.cjs) behind the host's changes (issue 18):
// - 25,000 assemblies did not finish in the 5-minute budget: DpeHost.run published a heartbeat for
//   every DPE of the host on each start (2,500 starts → 3.1 M heartbeat events); now only the new one.
// - Hosts on TCP edge connections: rhea's Session._process on top on both ends (8.5 % self in the
//   host at 10,000 assemblies), one session per DPE's receiver on one connection; one connection
//   per 200 DPEs brought it to 0.9 % (Note [Edge connections per host]).
// - At 25,000 (one process): receiving agent messages ≈ 28 % of samples (class-validator parse of
//   each heartbeat ≈ 8.5 %, its HMAC check ≈ 6.5 %), the DPEs' timers ≈ 21 % (the 2-second observed
//   snapshots ≈ 8.5 %), GC ≈ 9 %. Since (10,000 assemblies, shares of the host's busy samples):
//   a hand-written check of the heartbeat shape, falling back to class-validator on anything else
//   (Note [Heartbeat fast path]): the parse left the profile (< 1 %); canonical JSON by loops and the
//   signature compared in kept buffers; one clock per host instead of two intervals per DPE
//   (Note [Host clock]); credit given back in batches, not a flow frame per heartbeat (Note [Credit
//   in batches]; flows were ≈ 7 %); no per-heartbeat copies in the intake and the edge's decode.
//   Host CPU at 10,000 heartbeats/s, runs alternating old/new on the shared 2-core machine (only
//   runs where the agents offered ≥ 95 %): 61.9 and 67.7 % of a core before, 49.0, 49.8 and 50.2 %
//   after; detection p99 1.35 and 1.09 × floor before, 1.06, 1.14 and 1.06 after. At 5,000: 34.9
//   and 42.8 % before, 29.4 and 29.0 % after. The host's busy samples over a run fell by 20 % (on
//   top of the fast path). What remains of them: rhea's processing of the connections ≈ 25 %
//   (Session._process, dispositions), the HMAC check ≈ 7.5 %, the clock ≈ 10 % (periodic passes,
//   snapshots), GC ≈ 8 %.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { agentCredential, signAgentMessage } from '@nephele/contracts';
import { EdgeListener, silentLogger } from '@nephele/bus';
import type { BenchRow } from './bench.types';
import { BenchHost, HostMessage, HostSetup } from './heartbeats.host';

const LONG = process.env.BENCH_PROFILE === 'long';
const DEPLOYABLES = Number(process.env.BENCH_HB_DEPLOYABLES ?? (LONG ? 2500 : 1000));
const ASSEMBLIES = 10;
const INTERVAL_MS = 1000;
const MISSES = 3;
const FLOOR = INTERVAL_MS * MISSES;
const RAMP_MS = 5000;
/** The worker's default (DPE_PER_EDGE); BENCH_HB_PER_EDGE=100000 shows one connection per host. */
const DPES_PER_EDGE = Number(process.env.BENCH_HB_PER_EDGE ?? 200);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CaseResult {
  detection: number[];
  toRecovery: number[];
  victims: number;
  /** Heartbeats the agents sent per second over the measured window (silenced ones excluded). */
  sentPerSec: number;
  assemblies: number;
  falseAlarms: number;
  hosts: { cpuPct: number; rssMiB: number; perDeployableKiB: number }[];
}

/** BENCH_HB_PROCESSES=1: each DPE host in a process of its own, on TCP edge connections. */
const PROCESSES = !!process.env.BENCH_HB_PROCESSES;

interface Host {
  /** Sends a message and waits for the answer of that kind. */
  ask<K extends HostMessage['kind']>(m: object, k: K): Promise<Extract<HostMessage, { kind: K }>>;
  exit(): Promise<void>;
}

/** A DPE host in this process (its DPEs on in-process edge connections). */
function hostHere(listener: EdgeListener): Host {
  const h = new BenchHost((s) => async (n) => {
    const c = listener.connect(`bench-${s.workerId}-${n}`);
    await c.start();
    return c;
  });
  return {
    ask: async (m, k) => {
      const r = await h.handle(m as { kind: string });
      if (r?.kind !== k) throw new Error(`expected ${k}`);
      return r as never;
    },
    exit: async () => void (await h.handle({ kind: 'exit' })),
  };
}

/** A DPE host in a process of its own (bench/heartbeats.host.ts). */
function hostProcess(): Host {
  const child = fork(
    path.join(__dirname, '../tools/ts-run.js'),
    [path.join(__dirname, 'heartbeats.host.ts')],
    {
      execArgv: ['--expose-gc'],
      env: { ...process.env, BENCH_HB_CHILD: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const waiting = new Map<string, (m: HostMessage) => void>();
  child.on('message', (m: HostMessage) => {
    waiting.get(m.kind)?.(m);
    waiting.delete(m.kind);
  });
  return {
    ask: (m, k) =>
      new Promise((r) => {
        waiting.set(k, r as (m: HostMessage) => void);
        child.send(m);
      }),
    exit: () =>
      new Promise<void>((r) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
        child.send({ kind: 'exit' });
      }),
  };
}

async function runCase(hostCount: number): Promise<CaseResult> {
  const ids = Array.from(
    { length: DEPLOYABLES },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );
  const asm = Array.from({ length: ASSEMBLIES }, (_, i) => `a${i}`);
  // The generated agents sign their heartbeats as real ones do (Note [Agent identity]).
  const agentKey = randomBytes(32).toString('base64url');
  // The DPE hosts log in as every edge peer does (SASL PLAIN), with a secret of this run.
  const hostSecret = randomBytes(24).toString('base64url');
  const listener = new EdgeListener({
    port: 0,
    host: '127.0.0.1',
    verify: (_user, password) => (password === hostSecret ? { name: 'bench-dpe-host' } : null),
    maxLinksPerConnection: 100_000,
    logger: silentLogger,
  });
  await listener.start();
  const gen = listener.connect('bench-agents');
  await gen.start();
  // Deployables split by index (the pool's least-loaded placement gives the same even split).
  const hosts = Array.from({ length: hostCount }, () => (PROCESSES ? hostProcess() : hostHere(listener)));
  const setups = hosts.map((h, k) => {
    const setup: HostSetup = {
      workerId: `bench-${k}`,
      edgeUrl: `amqp://bench:${hostSecret}@127.0.0.1:${listener.port}`,
      ids: ids.filter((_, i) => i % hostCount === k),
      assemblies: asm,
      agentKey,
      intervalMs: INTERVAL_MS,
      misses: MISSES,
      dpesPerEdge: DPES_PER_EDGE,
    };
    return h.ask({ kind: 'setup', setup }, 'ready');
  });
  const before = await Promise.all(setups);

  const all = ids.flatMap((id) =>
    asm.map((a) => ({ id, a, key: `${id}/${a}`, cred: agentCredential(agentKey, `${id}.${a}.1`) })),
  );
  const silencedAt = new Map<string, number>();
  const lastSent = new Map<string, number>();
  let seq = 0;
  let stop = false;
  const slices = 20;
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  // One slice of the assemblies heartbeats; sends are not awaited (an agent does not wait for the
  // DPE either), so a slow consumer shows as late heartbeats, not as fewer of them.
  const beat = (slice: number) => {
    const sentAt = new Date().toISOString();
    const t = now();
    for (let i = slice; i < all.length; i += slices) {
      const x = all[i]!;
      if (silencedAt.has(x.key) || performance.now() < rampFrom + (i / all.length) * RAMP_MS) continue;
      lastSent.set(x.key, t);
      const assemblyId = `${x.id}.${x.a}.1`;
      const p = gen
        .send(
          `nephele.agent.events.${x.id}`,
          signAgentMessage(x.cred, {
            kind: 'heartbeat' as const,
            assemblyId,
            deployableId: x.id,
            seq: seq++,
            sentAt,
            services: {},
          }),
          { ttlMs: 3000 },
        )
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent++;
    }
  };
  // Every assembly heartbeats once per interval, spread over the interval (slices on a fixed clock).
  // The agents come online over RAMP_MS (as booting ones do), not all in the first slice.
  const rampFrom = performance.now();
  const ticker = (async () => {
    const t0 = performance.now();
    for (let k = 0; !stop; k++) {
      beat(k % slices);
      const wait = t0 + ((k + 1) * INTERVAL_MS) / slices - performance.now();
      await sleep(Math.max(0, wait)); // yields even when behind
    }
  })();

  await sleep(RAMP_MS + 5000); // warm-up: every assembly online
  const steady = await Promise.all(hosts.map((h) => h.ask({ kind: 'measure' }, 'steady')));
  const sent0 = sent;
  const tMeasure = performance.now();
  // Silence 1% at random moments over 5 s (every 100th assembly, offset by a stride).
  const victims = all.filter((_, i) => (i * 7919) % 100 === 0).slice(0, Math.round(all.length / 100));
  victims.forEach((v, i) => setTimeout(() => silencedAt.set(v.key, now()), (i * 5000) / victims.length));
  await sleep(5000 + FLOOR + 4000);
  const reports = await Promise.all(hosts.map((h) => h.ask({ kind: 'report' }, 'report')));
  const sentPerSec = (sent - sent0) / ((performance.now() - tMeasure) / 1000);
  stop = true;
  await ticker;
  await Promise.all(inFlight);
  await Promise.all(hosts.map((h) => h.exit()));
  await gen.close();
  await listener.close();

  const missedAt = new Map(reports.flatMap((r) => r.missed));
  const recoveryAt = new Map(reports.flatMap((r) => r.recovery));
  const detection: number[] = [];
  const toRecovery: number[] = [];
  for (const v of victims) {
    const m = missedAt.get(v.key);
    const last = lastSent.get(v.key);
    if (m !== undefined && last !== undefined) detection.push(m - last);
    const r = recoveryAt.get(v.key);
    if (m !== undefined && r !== undefined) toRecovery.push(r - m);
  }
  return {
    detection,
    toRecovery,
    victims: victims.length,
    sentPerSec,
    assemblies: all.length,
    falseAlarms: [...missedAt.keys()].filter((k) => !silencedAt.has(k)).length,
    // In this process every host reports the same process: one row for all, an upper bound of
    // each host's share (it also runs the agents and the edge).
    hosts: (PROCESSES ? reports : reports.slice(0, 1)).map((r, k) => ({
      cpuPct: (r.cpuMs / r.wallMs) * 100,
      rssMiB: steady[k]!.rss / 1048576,
      perDeployableKiB:
        (steady[k]!.rss - Math.min(...before.map((x) => x.rssBefore))) /
        (PROCESSES ? DEPLOYABLES / hostCount : DEPLOYABLES) /
        1024,
    })),
  };
}

function rows(label: string, c: CaseResult, baseline?: CaseResult): BenchRow[] {
  const p99 = pct(c.detection, 99);
  const base = baseline ? pct(baseline.detection, 99) : FLOOR;
  const b = 'heartbeats';
  return [
    {
      benchmark: b,
      figure: `${label}: detection p50 (${c.victims} of ${c.assemblies} silenced)`,
      value: pct(c.detection, 50),
      unit: 'ms',
      baseline: 'interval × misses',
      baselineValue: FLOOR,
      ratio: pct(c.detection, 50) / FLOOR,
    },
    {
      benchmark: b,
      figure: `${label}: detection p99`,
      value: p99,
      unit: 'ms',
      baseline: baseline ? 'one host, same deployables' : 'interval × misses',
      baselineValue: base,
      ratio: p99 / base,
      target: `<= 1.2 × floor (${1.2 * FLOOR} ms)`,
      met: p99 <= 1.2 * FLOOR,
    },
    {
      benchmark: b,
      figure: `${label}: detected / silenced; false alarms`,
      value: c.detection.length / c.victims,
      unit: `(false alarms: ${c.falseAlarms})`,
      target: 'all, 0 false',
      met: c.detection.length === c.victims && c.falseAlarms === 0,
    },
    {
      benchmark: b,
      figure: `${label}: detection → first recovery command p99`,
      value: pct(c.toRecovery, 99),
      unit: 'ms',
      target: '<= 100 ms',
      met: pct(c.toRecovery, 99) <= 100,
    },
    {
      benchmark: b,
      figure: `${label}: heartbeats sent by the agents`,
      value: c.sentPerSec,
      unit: `/s (offered ${c.assemblies}/s, less the silenced)`,
      // Below this the machine could not offer the load: the detection figures do not count.
      target: '>= 95 % of offered',
      met: c.sentPerSec >= 0.95 * 0.99 * c.assemblies,
    },
    ...c.hosts.flatMap((h, k): BenchRow[] => [
      {
        benchmark: b,
        figure: `${label}: ${PROCESSES ? `host ${k}` : 'bench process (hosts + agents + edge)'} CPU (${c.assemblies / c.hosts.length} heartbeats/s)`,
        value: h.cpuPct,
        unit: '% of one core',
        target: '<= 100 %',
        met: h.cpuPct <= 100,
      },
      {
        benchmark: b,
        figure: `${label}: ${PROCESSES ? `host ${k}` : 'bench process'} RSS, steady (${h.perDeployableKiB.toFixed(0)} KiB per deployable)`,
        value: h.rssMiB,
        unit: 'MiB',
        target: '<= 1024 MiB',
        met: h.rssMiB <= 1024,
      },
    ]),
  ];
}

export default async function run(): Promise<BenchRow[]> {
  const one = await runCase(1);
  if (process.env.BENCH_HB_ONE_HOST) return rows(`${DEPLOYABLES} deployables, 1 host`, one);
  const two = await runCase(2);
  return [
    ...rows(`${DEPLOYABLES} deployables, 1 host`, one),
    ...rows(`${DEPLOYABLES} deployables, 2 hosts`, two, one),
  ];
}
