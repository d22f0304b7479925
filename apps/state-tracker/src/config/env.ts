import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { loadEnv, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class StateTrackerEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT: number = 8083;
  /** Poll period when every instance is in a steady state. */
  @IsInt() @Min(100) TRACKER_POLL_MS: number = 10_000;
  /** Poll period while any instance is pending, stopping, rebooting or terminating. */
  @IsInt() @Min(50) TRACKER_FAST_POLL_MS: number = 500;
  /** Shared secret of provider callbacks (HMAC-SHA256 of the body in X-Nephele-Signature). */
  @IsOptional() @IsString() NEPHELE_CALLBACK_SECRET?: string = undefined;
  /** An instance younger than this is not declared vanished (list calls can lag a create). */
  @IsInt() @Min(0) TRACKER_VANISH_GRACE_MS: number = 5_000;
}

export interface StateTrackerConfig extends ServiceConfig {
  pollMs: number;
  fastPollMs: number;
  callbackSecret?: string;
  vanishGraceMs: number;
}

export function loadStateTrackerConfig(env: NodeJS.ProcessEnv = process.env): StateTrackerConfig {
  const e = loadEnv(StateTrackerEnv, env);
  return {
    ...serviceConfig(e),
    pollMs: e.TRACKER_POLL_MS,
    fastPollMs: e.TRACKER_FAST_POLL_MS,
    callbackSecret: e.NEPHELE_CALLBACK_SECRET,
    vanishGraceMs: e.TRACKER_VANISH_GRACE_MS,
  };
}
