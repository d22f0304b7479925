import { IsIn, IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';
import { loadEnv } from '@nephele/service-kit';

/** The console served on its own (distributed install). */
export class ConsoleEnv {
  @IsInt() @Min(0) @Max(65535) PORT = 8088;
  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) LOG_LEVEL = 'info';
  /**
   * Base URL of the API (the gateway or ingress that routes every REST prefix). Unset: the API is
   * on the page's own origin (an ingress routing `/` to the console and `/v1/…` to the services).
   */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  NEPHELE_API_URL?: string = undefined;
}

export interface ConsoleConfig {
  port: number;
  logLevel: string;
  /** '' = same origin as the page; otherwise an absolute base URL without a trailing slash. */
  apiUrl: string;
}

export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const e = loadEnv(ConsoleEnv, env);
  return { port: e.PORT, logLevel: e.LOG_LEVEL, apiUrl: (e.NEPHELE_API_URL ?? '').replace(/\/+$/, '') };
}
