import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { loadEnv, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class EventLogEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT = 8085;
  /** Days of events kept; older day partitions are dropped. */
  @IsInt() @Min(1) EVENT_LOG_RETENTION_DAYS = 30;
  /** Store transient types (heartbeats) too. */
  @IsBoolean() EVENT_LOG_STORE_TRANSIENT = false;
  @IsInt() @Min(1) @Max(5000) EVENT_LOG_BATCH_SIZE = 1000;
  @IsInt() @Min(1) @Max(10000) EVENT_LOG_BATCH_WAIT_MS = 20;
}

export interface EventLogConfig extends ServiceConfig {
  retentionDays: number;
  storeTransient: boolean;
  batchSize: number;
  batchWaitMs: number;
}

export function loadEventLogConfig(env: NodeJS.ProcessEnv = process.env): EventLogConfig {
  const e = loadEnv(EventLogEnv, env);
  return {
    ...serviceConfig(e),
    retentionDays: e.EVENT_LOG_RETENTION_DAYS,
    storeTransient: e.EVENT_LOG_STORE_TRANSIENT,
    batchSize: e.EVENT_LOG_BATCH_SIZE,
    batchWaitMs: e.EVENT_LOG_BATCH_WAIT_MS,
  };
}
