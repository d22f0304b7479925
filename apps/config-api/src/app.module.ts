import { DynamicModule, Module, Provider } from '@nestjs/common';
import {
  BootstrapTokenVerifier,
  BUS_CLIENT,
  BusClient,
  BusTokenVerifier,
  CachingTokenVerifier,
  CoreModule,
  TOKEN_REVOCATIONS,
  TOKEN_VERIFIER,
  TokenRevocations,
} from '@nephele/service-kit';
import { AppLogger } from '@nephele/observability';
import { ConfigApiConfig } from './config/env';
import { ConfigApiModule } from './config-api.module';
import { InProcessTokens } from './tokens/in-process-tokens';

export interface ConfigApiAppOptions {
  /** Logger to use instead of stdout (tests capture it). */
  logger?: AppLogger;
}

/**
 * The config-api as a standalone service. CoreModule's token verifier asks the config-api over
 * the bus; here the config-api *is* that service, so the verifier is replaced by one that reads the
 * database directly (bootstrap token first, as everywhere).
 */
@Module({})
export class ConfigApiAppModule {
  static forRoot(config: ConfigApiConfig, opts: ConfigApiAppOptions = {}): DynamicModule {
    const inProcessTokens = new InProcessTokens();
    const core = CoreModule.forRoot({
      service: 'config-api',
      amqpUrl: config.amqpUrl,
      logLevel: config.logLevel,
      bootstrapToken: config.bootstrapToken,
      logger: opts.logger,
    });
    const verifier: Provider = {
      provide: TOKEN_VERIFIER,
      inject: [BUS_CLIENT, TOKEN_REVOCATIONS],
      useFactory: (client: BusClient, revocations: TokenRevocations) =>
        new BootstrapTokenVerifier(
          config.bootstrapToken,
          inProcessTokens.verifier(
            new CachingTokenVerifier(new BusTokenVerifier(client)).follow(revocations),
          ),
        ),
    };
    const providers = (core.providers ?? []).map((p) =>
      typeof p === 'object' && 'provide' in p && p.provide === TOKEN_VERIFIER ? verifier : p,
    );
    return {
      module: ConfigApiAppModule,
      imports: [{ ...core, providers }, ConfigApiModule.forRoot(config, { inProcessTokens })],
    };
  }
}
