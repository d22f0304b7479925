import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { Bus } from '@nephele/bus';
import { TokenIntrospectData } from '@nephele/contracts';
import {
  BootstrapTokenVerifier,
  BUS,
  Principal,
  TOKEN_INTROSPECT,
  TokenVerifier,
} from '@nephele/service-kit';
import { ConfigApiConfig } from '../config/env';
import { CONFIG_API_CONFIG, IN_PROCESS_TOKENS } from '../config-api.tokens';
import { InProcessTokens } from './in-process-tokens';
import { TokensService } from './tokens.service';

export const TOKEN_INTROSPECT_QUEUE = 'config-api.token-introspect';

/**
 * Answers `nephele.config.token.introspect` `{token}` → `Principal | null` for every other service's
 * auth guard, and creates the first admin token when no bootstrap token is configured.
 */
@Injectable()
export class TokensResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The config-api's bootstrap token is an admin token for every service, even one started without it. */
  private readonly verifier: TokenVerifier;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    private readonly tokens: TokensService,
    @Inject(CONFIG_API_CONFIG) config: ConfigApiConfig,
    @Optional() @Inject(IN_PROCESS_TOKENS) private readonly inProcess?: InProcessTokens,
  ) {
    this.verifier = new BootstrapTokenVerifier(config.bootstrapToken, tokens);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.inProcess?.attach(this.tokens);
    await this.tokens.ensureInitialAdmin();
    await this.bus.respond(
      TOKEN_INTROSPECT_QUEUE,
      [TOKEN_INTROSPECT],
      async (event): Promise<Principal | null> =>
        this.verifier.verify((event.data as TokenIntrospectData).token),
    );
  }

  onApplicationShutdown(): void {
    this.inProcess?.detach(this.tokens);
  }
}
