import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { loadEnv } from '@nephele/service-kit';

export class DpeWorkerEnv {
  @IsOptional() @IsString() AMQP_URL?: string = undefined;
  /** The AMQP 1.0 edge this worker uses to reach agents (RabbitMQ's plugin, or the all-in-one listener). */
  @IsString() AMQP10_URL: string = 'amqp://guest:guest@127.0.0.1:5672';
  /** The edge URL written into agents' user data (default: AMQP10_URL). */
  @IsOptional() @IsString() NEPHELE_AGENT_EDGE_URL?: string = undefined;
  /** `<deployableId>:<epoch>,…` — the DPEs this worker hosts. */
  @Matches(/^(([0-9A-Za-z-]+:\d+)(,[0-9A-Za-z-]+:\d+)*)?$/, {
    message: 'DPE_ASSIGNMENTS must be <deployableId>:<epoch>,…',
  })
  DPE_ASSIGNMENTS: string = '';
  @IsString() DPE_WORKER_ID: string = `worker-${process.pid}`;
  @IsInt() @Min(0) @Max(65535) PORT: number = 0;
  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) LOG_LEVEL: string = 'info';
  @IsInt() @Min(1000) DPE_BOOT_TIMEOUT_MS: number = 90_000;
  /** DPEs per edge connection: the worker opens one more per this many (Note [Edge connections per host]). */
  @IsInt() @Min(1) @Max(2000) DPE_PER_EDGE: number = 200;
}

export function loadDpeWorkerConfig(env: NodeJS.ProcessEnv = process.env): DpeWorkerEnv {
  return loadEnv(DpeWorkerEnv, env);
}
