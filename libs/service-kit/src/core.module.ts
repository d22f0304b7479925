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
import {
  BUS,
  BUS_CLIENT,
  CLOCK,
  LOGGER,
  METRICS,
  SERVICE_NAME,
  TOKEN_REVOCATIONS,
  TOKEN_VERIFIER,
  systemClock,
} from './tokens';
import { TokenIntrospect } from '@nephele/contracts';
import { lastValueFrom } from 'rxjs';
import { BusClient, BusQueueTuning, TokenRevocationsConsumer } from './bus-transport';

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
export const TOKEN_INTROSPECT = TokenIntrospect.type;

/** Asks the config-api, over the bus, who a token belongs to. */
export class BusTokenVerifier implements TokenVerifier {
  constructor(private readonly client: BusClient) {}
  async verify(token: string): Promise<Principal | null> {
    const r = await lastValueFrom(this.client.send<Principal | null>(TOKEN_INTROSPECT, { token }));
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
    const revocations = new TokenRevocations();
    return {
      module: CoreModule,
      controllers: [HealthController, TokenRevocationsConsumer],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: METRICS, useValue: metrics },
        { provide: CLOCK, useValue: systemClock },
        { provide: TOKEN_REVOCATIONS, useValue: revocations },
        { provide: SERVICE_NAME, useValue: opts.service },
        BusQueueTuning,
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
          provide: BUS_CLIENT,
          inject: [BUS],
          useFactory: (bus: Bus) => new BusClient(bus, opts.service, 5000),
        },
        {
          provide: TOKEN_VERIFIER,
          inject: [BUS_CLIENT],
          useFactory: (client: BusClient) =>
            new BootstrapTokenVerifier(
              opts.bootstrapToken,
              opts.remoteTokens === false
                ? undefined
                : new CachingTokenVerifier(new BusTokenVerifier(client)).follow(revocations),
            ),
        },
        { provide: APP_GUARD, useClass: AuthGuard },
        BusLifecycle,
      ],
      exports: [
        LOGGER,
        METRICS,
        CLOCK,
        BUS,
        BUS_CLIENT,
        SERVICE_NAME,
        BusQueueTuning,
        HealthRegistry,
        TOKEN_VERIFIER,
        TOKEN_REVOCATIONS,
      ],
    };
  }
}

export type { RequestHandler };
