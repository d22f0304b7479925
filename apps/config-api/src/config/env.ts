import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { parseMasterKeys } from '@nephele/crypto';
import { loadEnv, masterKeyFrom, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class ConfigApiEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT = 8081;
  /**
   * 32 bytes, base64 or hex; comma-separated during a rotation (the first seals, all open).
   * Optional at start: only storing or reading credentials needs it.
   */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY?: string = undefined;
  /** A file holding the master key (a mounted secret), when NEPHELE_MASTER_KEY is not set. */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY_FILE?: string = undefined;
}

export interface ConfigApiConfig extends ServiceConfig {
  masterKey?: string;
}

export function loadConfigApiConfig(env: NodeJS.ProcessEnv = process.env): ConfigApiConfig {
  const e = loadEnv(ConfigApiEnv, env);
  const masterKey = masterKeyFrom(e);
  if (masterKey) {
    try {
      parseMasterKeys(masterKey);
    } catch (err) {
      throw new Error(`invalid environment:\n  NEPHELE_MASTER_KEY: ${(err as Error).message}`);
    }
  }
  return {
    ...serviceConfig(e),
    masterKey,
  };
}
