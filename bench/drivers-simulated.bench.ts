// drivers-simulated: what one poll of the simulated cloud costs at the tracker benchmark's scale
// (100,000 instances), so the tracker's poll-cycle figure can be read against the driver's share.
// Baseline: copying 100,000 plain objects out of a Map (the floor of any in-memory list).
import { ManualClock, SimulatedDriver, parseSimulatedDriverConfig } from '@nephele/drivers';
import type { BenchRow } from './bench.types';

const N = Number(process.env.BENCH_INSTANCES ?? 100_000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(out);
}

export default async function (): Promise<BenchRow[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const clock = new ManualClock();
  const sut = new SimulatedDriver(
    parseSimulatedDriverConfig({ seed: 1, maxInstances: N, failureRate: 0.01 }),
    clock,
  );
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    await sut.create({
      idempotencyKey: `k${i}`,
      name: `vm-${i}`,
      image: 'sim-image',
      profile: 'sim.small',
      metadata: { owner: `o${i % 100}` },
    });
  }
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
  clock.advance(60_000);
  gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

  const before = sut.stats().calls.list;
  const listMs = await timed(5, () => sut.list());
  const callsPerList = (sut.stats().calls.list - before) / 5;
  const since = new Date(clock.now());
  clock.advance(1);
  const sinceMsTime = await timed(5, () => sut.list({ since }));

  const plain = new Map<string, { id: string; state: string }>();
  for (let i = 0; i < N; i++) plain.set(`i${i}`, { id: `i${i}`, state: 'running' });
  const baseline = await timed(5, () => {
    const out = [];
    for (const v of plain.values()) out.push({ ...v });
    return out;
  });

  return [
    { benchmark: 'drivers-simulated', figure: `create ${N} instances`, value: createMs, unit: 'ms' },
    {
      benchmark: 'drivers-simulated',
      figure: `list() of ${N} instances (median of 5)`,
      value: listMs,
      unit: 'ms',
      baseline: 'copy of N plain objects from a Map',
      baselineValue: baseline,
      ratio: listMs / baseline,
    },
    {
      benchmark: 'drivers-simulated',
      figure: 'list({since}) with nothing changed',
      value: sinceMsTime,
      unit: 'ms',
    },
    {
      benchmark: 'drivers-simulated',
      figure: 'provider calls per full list',
      value: callsPerList,
      unit: 'calls',
      target: '1',
      met: callsPerList === 1,
    },
    { benchmark: 'drivers-simulated', figure: `heap for ${N} instances`, value: heapMb, unit: 'MiB' },
  ];
}
