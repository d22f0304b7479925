import { Inject, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import { CloudEvent, TokenIntrospect, TokenIntrospectData, Topology } from '@nephele/contracts';
import {
  BootstrapTokenVerifier,
  BusConsumer,
  MessagePattern,
  Principal,
  TokenVerifier,
} from '@nephele/service-kit';
import { ConfigApiConfig } from '../config/env';
import { CONFIG_API_CONFIG, IN_PROCESS_TOKENS } from '../config-api.tokens';
import { InProcessTokens } from './in-process-tokens';
import { TokensService } from './tokens.service';

/**
 * Answers `nephele.config.token.introspect` `{token}` → `Principal | null` for every other service's
 * auth guard, and creates the first admin token when no bootstrap token is configured.
 */
@BusConsumer()
export class TokensResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The config-api's bootstrap token is an admin token for every service, even one started without it. */
  private readonly verifier: TokenVerifier;

  constructor(
    private readonly tokens: TokensService,
    @Inject(CONFIG_API_CONFIG) config: ConfigApiConfig,
    @Optional() @Inject(IN_PROCESS_TOKENS) private readonly inProcess?: InProcessTokens,
  ) {
    this.verifier = new BootstrapTokenVerifier(config.bootstrapToken, tokens);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.inProcess?.attach(this.tokens);
    await this.tokens.ensureInitialAdmin();
  }

  @MessagePattern(TokenIntrospect.type, { queue: Topology.queues.configTokenIntrospect })
  async introspect(e: CloudEvent<TokenIntrospectData>): Promise<Principal | null> {
    return this.verifier.verify(e.data!.token);
  }

  onApplicationShutdown(): void {
    this.inProcess?.detach(this.tokens);
  }
}
