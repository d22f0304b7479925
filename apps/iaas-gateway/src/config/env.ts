import { IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
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
  /**
   * The gateway's URL as instances see it (e.g. `http://10.0.2.2:8082` from a qemu guest). When
   * set, instances of drivers that boot images get the agent's #cloud-config and download the
   * agent bundle from `<this>/v1/agent-bundle` (Note [Agent bootstrap]); unset, they get the
   * user data as it is.
   */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  NEPHELE_AGENT_BUNDLE_URL?: string = undefined;
  /** The agent bundle file (`npm run agent:bundle` writes it). */
  @IsString() NEPHELE_AGENT_BUNDLE: string = 'dist/agent-bundle/nephele-agent.js';
  /** How long a bundle download token stays valid (Note [Bundle tokens]). */
  @IsInt() @Min(1000) NEPHELE_AGENT_BUNDLE_TOKEN_TTL_MS: number = 3_600_000;
}

export interface GatewayConfig extends ServiceConfig {
  imageMapper: string;
  maxAttempts: number;
  failureWindowMs: number;
  configTtlMs: number;
  agentBundle: { publicUrl?: string; path: string; tokenTtlMs: number };
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const e = loadEnv(GatewayEnv, env);
  return {
    ...serviceConfig(e),
    imageMapper: e.NEPHELE_IMAGE_MAPPER,
    maxAttempts: e.GATEWAY_MAX_ATTEMPTS,
    failureWindowMs: e.GATEWAY_FAILURE_WINDOW_MS,
    configTtlMs: e.GATEWAY_CONFIG_TTL_MS,
    agentBundle: {
      publicUrl: e.NEPHELE_AGENT_BUNDLE_URL,
      path: e.NEPHELE_AGENT_BUNDLE,
      tokenTtlMs: e.NEPHELE_AGENT_BUNDLE_TOKEN_TTL_MS,
    },
  };
}
