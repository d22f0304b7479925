import { Inject, Injectable } from '@nestjs/common';
import { Bus, LoggerLike } from '@nephele/bus';
import { BrokerConfigSnapshot } from '@nephele/broker';
import { ConfigExport, createEvent } from '@nephele/contracts';
import { AppLogger } from '@nephele/observability';
import { BUS, LOGGER } from '@nephele/service-kit';
import { GatewayConfig } from '../config/env';
import { GATEWAY_CONFIG, SERVICE } from '../gateway.tokens';

/**
 * The broker configuration as the config-api exports it, cached: re-read when a
 * `nephele.config.changed` event arrives (ConfigChangesConsumer) and at least every
 * GATEWAY_CONFIG_TTL_MS.
 */
@Injectable()
export class BrokerConfigService {
  private snapshot?: { at: number; value: BrokerConfigSnapshot };
  private inflight?: Promise<BrokerConfigSnapshot>;
  private generation = 0;
  private readonly log: LoggerLike;
  private readonly listeners: (() => void)[] = [];

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) log: AppLogger,
  ) {
    this.log = log;
  }

  /** Forget the cached snapshot (and tell listeners, e.g. the driver pool). */
  invalidate(): void {
    this.snapshot = undefined;
    this.generation++;
    for (const l of this.listeners) l();
  }

  onInvalidate(listener: () => void): void {
    this.listeners.push(listener);
  }

  async get(): Promise<BrokerConfigSnapshot> {
    if (this.snapshot && Date.now() - this.snapshot.at < this.config.configTtlMs) return this.snapshot.value;
    if (this.inflight) return this.inflight;
    const generation = this.generation;
    this.inflight = this.bus
      .request<BrokerConfigSnapshot>(createEvent(SERVICE, ConfigExport.type, {}), { timeoutMs: 10_000 })
      .then((value) => {
        if (generation === this.generation) this.snapshot = { at: Date.now(), value };
        return value;
      })
      .catch((e: Error) => {
        this.log.warn({ err: e.message }, 'reading the broker configuration failed');
        if (this.snapshot) return this.snapshot.value;
        throw new Error(`broker configuration unavailable: ${e.message}`);
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}
