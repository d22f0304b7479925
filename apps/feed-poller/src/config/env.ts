import { IsBoolean, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { loadEnv, masterKeyFrom, ServiceEnv, serviceConfig, ServiceConfig } from '@nephele/service-kit';

export class FeedPollerEnv extends ServiceEnv {
  @IsInt() @Min(0) @Max(65535) PORT = 8087;
  /** Encrypts feed credentials at rest; feeds with credentials are refused without it. */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY?: string = undefined;
  /** A file holding the master key (a mounted secret), when NEPHELE_MASTER_KEY is not set. */
  @IsOptional() @IsString() NEPHELE_MASTER_KEY_FILE?: string = undefined;
  /** Run the polling loop in this process (REST only when false). */
  @IsBoolean() FEED_POLLER_ENABLED = true;
  /** How often the loop looks for feeds that are due. */
  @IsInt() @Min(10) @Max(60_000) FEED_POLLER_TICK_MS = 500;
  /** How long a replica owns a feed it polls; renewed on every page (see Note [Feed leases]). */
  @IsInt() @Min(1000) @Max(3_600_000) FEED_POLLER_LEASE_MS = 60_000;
  /** Feeds polled at the same time by one replica. */
  @IsInt() @Min(1) @Max(256) FEED_POLLER_CONCURRENCY = 8;
  @IsInt() @Min(100) @Max(300_000) FEED_POLLER_HTTP_TIMEOUT_MS = 15_000;
  /** Largest feed page accepted, in bytes. */
  @IsInt() @Min(1024) @Max(100_000_000) FEED_POLLER_MAX_RESPONSE_BYTES = 5_000_000;
  /** Largest single entry accepted, in bytes (of its parsed form). */
  @IsInt() @Min(256) @Max(10_000_000) FEED_POLLER_MAX_ENTRY_BYTES = 262_144;
  /** Pages read in one poll of a feed before it yields to the others (it is due again at once). */
  @IsInt() @Min(1) @Max(100_000) FEED_POLLER_MAX_PAGES_PER_POLL = 200;
  /** Upper bound of the backoff of a failing feed. */
  @IsInt() @Min(1000) FEED_POLLER_BACKOFF_MAX_MS = 3_600_000;
  /** Seen entry ids are remembered this long (dedupe window). */
  @IsInt() @Min(1) FEED_POLLER_SEEN_RETENTION_DAYS = 14;
}

export interface FeedPollerConfig extends ServiceConfig {
  masterKey?: string;
  pollingEnabled: boolean;
  tickMs: number;
  leaseMs: number;
  concurrency: number;
  httpTimeoutMs: number;
  maxResponseBytes: number;
  maxEntryBytes: number;
  maxPagesPerPoll: number;
  backoffMaxMs: number;
  seenRetentionDays: number;
}

export function loadFeedPollerConfig(env: NodeJS.ProcessEnv = process.env): FeedPollerConfig {
  const e = loadEnv(FeedPollerEnv, env);
  return {
    ...serviceConfig(e),
    masterKey: masterKeyFrom(e),
    pollingEnabled: e.FEED_POLLER_ENABLED,
    tickMs: e.FEED_POLLER_TICK_MS,
    leaseMs: e.FEED_POLLER_LEASE_MS,
    concurrency: e.FEED_POLLER_CONCURRENCY,
    httpTimeoutMs: e.FEED_POLLER_HTTP_TIMEOUT_MS,
    maxResponseBytes: e.FEED_POLLER_MAX_RESPONSE_BYTES,
    maxEntryBytes: e.FEED_POLLER_MAX_ENTRY_BYTES,
    maxPagesPerPoll: e.FEED_POLLER_MAX_PAGES_PER_POLL,
    backoffMaxMs: e.FEED_POLLER_BACKOFF_MAX_MS,
    seenRetentionDays: e.FEED_POLLER_SEEN_RETENTION_DAYS,
  };
}
