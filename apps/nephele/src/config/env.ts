import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { loadEnv } from '@nephele/service-kit';

/** The all-in-one process: every service module on one port (ARCHITECTURE §7). */
export class AllInOneEnv {
  @IsOptional() @IsString() DATABASE_URL?: string = undefined;
  @IsOptional() @IsString() AMQP_URL?: string = undefined;
  @IsInt() @Min(0) @Max(65535) PORT: number = 8080;
  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) LOG_LEVEL: string = 'info';
  @IsOptional() @IsString() NEPHELE_BOOTSTRAP_TOKEN?: string = undefined;
  @IsOptional() @IsString() NEPHELE_MASTER_KEY?: string = undefined;
  /** A file holding the master key (kept apart from the data dir), when NEPHELE_MASTER_KEY is unset. */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY_FILE?: string = undefined;
  @IsOptional() @IsString() NEPHELE_DATA_DIR?: string = undefined;
  /** The AMQP 1.0 edge Nephele listens on itself (agents, management clients). */
  @IsInt() @Min(0) @Max(65535) NEPHELE_EDGE_PORT: number = 5673;
  @IsString() NEPHELE_EDGE_HOST: string = '127.0.0.1';
  /** Skip creating the default project, local provider, pool and example appliance. */
  @IsIn(['true', 'false']) NEPHELE_SEED: string = 'true';
}

export function loadAllInOneEnv(env: NodeJS.ProcessEnv = process.env): AllInOneEnv {
  return loadEnv(AllInOneEnv, env);
}
