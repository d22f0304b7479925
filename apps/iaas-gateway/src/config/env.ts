import { IsInt, IsString, Max, Min } from 'class-validator';
import { loadEnv, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class GatewayEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT: number = 8082;
  /** `table` (default: the config-api's image mappings), `http://…` (callout), or a module path. */
  @IsString() NEPHELE_IMAGE_MAPPER: string = 'table';
  /** Candidates tried for one launch before it fails. */
  @IsInt() @Min(1) @Max(20) GATEWAY_MAX_ATTEMPTS: number = 3;
  /** Launch failures within this window penalise an account in selection. */
  @IsInt() @Min(0) GATEWAY_FAILURE_WINDOW_MS: number = 600_000;
  /** Re-read the broker configuration at least this often (it is also refreshed on config.changed). */
  @IsInt() @Min(1000) GATEWAY_CONFIG_TTL_MS: number = 60_000;
}

export interface GatewayConfig extends ServiceConfig {
  imageMapper: string;
  maxAttempts: number;
  failureWindowMs: number;
  configTtlMs: number;
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = loadEnv(GatewayEnv, env);
  return {
    ...serviceConfig(e),
    imageMapper: e.NEPHELE_IMAGE_MAPPER,
    maxAttempts: e.GATEWAY_MAX_ATTEMPTS,
    failureWindowMs: e.GATEWAY_FAILURE_WINDOW_MS,
    configTtlMs: e.GATEWAY_CONFIG_TTL_MS,
  };
}
