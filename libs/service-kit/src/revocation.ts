import { EventEmitter } from 'node:events';

// Note [Revocation]
// Revoking a token writes `nephele.config.changed {resource: 'tokens', action: 'deleted', id}` into
// the config-api's outbox in the revoking transaction; the relay publishes it at once (nudged after
// the commit). Every process's CoreModule listens on its own exclusive queue and calls
// `TokenRevocations.revoked(id)`: the token verifier cache drops the token's verdict (so the next
// request asks the config-api, which says "revoked"), open SSE streams of that token close, and
// any other long-lived session (the AMQP 1.0 edge) can close through `onTokenRevoked`. The cache's
// TTL remains the backstop if the event is lost (broker down).

/** Tells a process that a token was revoked. Injected as `TOKEN_REVOCATIONS` (CoreModule). */
export class TokenRevocations {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /** Called when the revocation event arrives (CoreModule), or directly by the config-api. */
  revoked(tokenId: string): void {
    this.emitter.emit('revoked', tokenId);
  }

  /**
   * Calls `listener(tokenId)` for each revoked token, within a second of the revocation. Use it to
   * end sessions authenticated by that token (SSE streams, edge connections). Returns `off`.
   */
  onTokenRevoked(listener: (tokenId: string) => void): () => void {
    const safe = (id: string) => {
      try {
        listener(id);
      } catch {
        // A listener's bug must not stop the others.
      }
    };
    this.emitter.on('revoked', safe);
    return () => this.emitter.off('revoked', safe);
  }
}
