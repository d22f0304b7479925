import { Principal, TokenVerifier } from '@nephele/service-kit';

/**
 * Lets the config-api's own auth guard resolve tokens straight from its database instead of asking
 * itself over the bus: revocation is immediate here and the API works while the broker is down.
 * The app module builds the guard's verifier with `verifier(fallback)`; the tokens service attaches
 * itself when its module starts. Until then (or in a process without the config-api module) the
 * fallback (the bus) answers.
 */
export class InProcessTokens {
  private local?: TokenVerifier;

  attach(v: TokenVerifier): void {
    this.local = v;
  }

  detach(v: TokenVerifier): void {
    if (this.local === v) this.local = undefined;
  }

  verifier(fallback: TokenVerifier): TokenVerifier {
    return { verify: (token: string): Promise<Principal | null> => (this.local ?? fallback).verify(token) };
  }
}
