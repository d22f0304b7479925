import {
  DynamicModule,
  Global,
  Inject,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Bus, createBus, RequestHandler } from '@nephele/bus';
import { AppLogger, createLogger, createMetricsRegistry } from '@nephele/observability';
import { AuthGuard, BootstrapTokenVerifier, CachingTokenVerifier, Principal, TokenVerifier } from './auth';
import { HealthController, HealthRegistry } from './health';
import { TokenRevocations } from './revocation';
import { BUS, CLOCK, LOGGER, METRICS, TOKEN_REVOCATIONS, TOKEN_VERIFIER, systemClock } from './tokens';
import { ConfigChangedData, createEvent, Topology } from '@nephele/contracts';
import { Outcome } from '@nephele/bus';
import { randomUUID } from 'node:crypto';

export interface CoreOptions {
  /** Service name (logs, metrics label, DLQ of unprefixed queues). `nephele` for the all-in-one. */
  service: string;
  amqpUrl?: string;
  logLevel?: string;
  bootstrapToken?: string;
  /** Verify other tokens through the config-api over the bus (default true). */
  remoteTokens?: boolean;
  logger?: AppLogger;
}

const CORE_SERVICE = Symbol('CORE_SERVICE');

/** Command the config-api answers to resolve a bearer token (see ConfigApi TokensResponder). */
export const TOKEN_INTROSPECT = 'nephele.config.token.introspect';

/** Asks the config-api, over the bus, who a token belongs to. */
export class BusTokenVerifier implements TokenVerifier {
  constructor(private readonly bus: Bus) {}
  async verify(token: string): Promise<Principal | null> {
    const r = await this.bus.request<Principal | null>(createEvent('auth', TOKEN_INTROSPECT, { token }), {
      timeoutMs: 5000,
    });
    return r ?? null;
  }
}

/** Queue (per process, exclusive) on which token revocations arrive; see Note [Revocation]. */
export function revocationQueue(service: string): string {
  return `${service}.token-revocations.${randomUUID()}`;
}

class BusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly health: HealthRegistry,
    @Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations,
    @Inject(CORE_SERVICE) private readonly service: string,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    this.health.register('bus', async () => {
      if (!this.bus.isReady()) throw new Error('bus not connected');
    });
    await this.bus.subscribe({
      queue: revocationQueue(this.service),
      exchange: Topology.events,
      bindings: ['nephele.config.changed'],
      exclusive: true,
      prefetch: 256,
      handler: async (event) => {
        const d = event.data as ConfigChangedData;
        if (d.resource === 'tokens' && d.action === 'deleted') this.revocations.revoked(d.id);
        return Outcome.ack();
      },
    });
  }
  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

/**
 * The process-wide infrastructure every service module uses: logger, metrics, health, the bus and
 * authentication. Standalone services import it once; the all-in-one imports it once for all.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(opts: CoreOptions): DynamicModule {
    const logger = opts.logger ?? createLogger(opts.service, opts.logLevel ?? 'info');
    const metrics = createMetricsRegistry(opts.service);
    const revocations = new TokenRevocations();
    return {
      module: CoreModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        { provide: CLOCK, useValue: systemClock },
        { provide: TOKEN_REVOCATIONS, useValue: revocations },
        { provide: CORE_SERVICE, useValue: opts.service },
        HealthRegistry,
        {
          provide: BUS,
          useFactory: async () => {
            const bus = createBus({ url: opts.amqpUrl, service: opts.service, logger });
            await bus.start();
            return bus;
          },
        },
        {
          provide: TOKEN_VERIFIER,
          inject: [BUS],
          useFactory: (bus: Bus) =>
            new BootstrapTokenVerifier(
              opts.bootstrapToken,
              opts.remoteTokens === false
                ? undefined
                : new CachingTokenVerifier(new BusTokenVerifier(bus)).follow(revocations),
            ),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        BusLifecycle,
      ],
      exports: [LOGGER, METRICS, CLOCK, BUS, HealthRegistry, TOKEN_VERIFIER, TOKEN_REVOCATIONS],
    };
  }
}

export type { RequestHandler };
