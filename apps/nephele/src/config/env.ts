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
  /** Serve the edge over TLS: PEM certificate (chain) and key files. Both or neither. */
  @IsOptional() @IsString() NEPHELE_EDGE_TLS_CERT?: string = undefined;
  @IsOptional() @IsString() NEPHELE_EDGE_TLS_KEY?: string = undefined;
  /** Accept SASL ANONYMOUS peers from loopback as admins (a demo only; off by default). */
  @IsIn(['true', 'false']) NEPHELE_EDGE_ALLOW_ANONYMOUS: string = 'false';
  /** Largest message a peer may send (bytes); bigger ones close its connection unbuffered. */
  @IsInt() @Min(1024) @Max(268_435_456) NEPHELE_EDGE_MAX_MESSAGE_BYTES: number = 1_048_576;
  /** Open edge connections one credential (token, agent) may have at once. */
  @IsInt() @Min(1) @Max(100_000) NEPHELE_EDGE_MAX_CONNECTIONS: number = 64;
  /** Bytes one edge queue (address) may hold; beyond it senders are refused. */
  @IsInt() @Min(65_536) NEPHELE_EDGE_MAX_QUEUE_BYTES: number = 67_108_864;
  /** Messages one edge queue may hold. */
  @IsInt() @Min(1) NEPHELE_EDGE_MAX_QUEUE_LENGTH: number = 10_000;
  /** The longest a message waits in an edge queue, whatever its own ttl (ms). */
  @IsInt() @Min(1000) NEPHELE_EDGE_MAX_HOLD_MS: number = 3_600_000;
  /** Skip creating the default project, local provider, pool and example appliance. */
  @IsIn(['true', 'false']) NEPHELE_SEED: string = 'true';
}

export function loadAllInOneEnv(env: NodeJS.ProcessEnv = process.env): AllInOneEnv {
  const e = loadEnv(AllInOneEnv, env);
  if (!e.NEPHELE_EDGE_TLS_CERT !== !e.NEPHELE_EDGE_TLS_KEY) {
    throw new Error(
      'invalid environment:\n  NEPHELE_EDGE_TLS_CERT / NEPHELE_EDGE_TLS_KEY: give both files (or neither)',
    );
  }
  return e;
}
