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
import { BUS, CLOCK, LOGGER, METRICS, TOKEN_VERIFIER, systemClock } from './tokens';
import { createEvent } from '@nephele/contracts';

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

class BusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly health: HealthRegistry,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    this.health.register('bus', async () => {
      if (!this.bus.isReady()) throw new Error('bus not connected');
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
    return {
      module: CoreModule,
      controllers: [HealthController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        { provide: CLOCK, useValue: systemClock },
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
              opts.remoteTokens === false ? undefined : new CachingTokenVerifier(new BusTokenVerifier(bus)),
            ),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        BusLifecycle,
      ],
      exports: [LOGGER, METRICS, CLOCK, BUS, HealthRegistry, TOKEN_VERIFIER],
    };
  }
}

export type { RequestHandler };
