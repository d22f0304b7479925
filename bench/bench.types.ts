/** One printed figure of a benchmark (see tools/bench.mjs). */
export interface BenchRow {
  benchmark: string;
  figure: string;
  value: number;
  unit: string;
  /** What the figure is compared with, measured in the same run (e.g. raw RabbitMQ rate). */
  baseline?: string;
  baselineValue?: number;
  /** value / baselineValue, or as the benchmark defines it (say so in `figure`). */
  ratio?: number;
  /** The goal from the issue, as text (e.g. ">= 0.7", "<= 10 ms"). */
  target?: string;
  /** Whether the target was met, when it can be judged. */
  met?: boolean;
}

/** A benchmark module's default export. */
export type Benchmark = () => Promise<BenchRow[]>;
