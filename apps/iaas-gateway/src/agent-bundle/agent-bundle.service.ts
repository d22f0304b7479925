import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { agentCloudConfig, CloudDriver, parseAgentUserData } from '@nephele/drivers';
import { CLOCK, Clock } from '@nephele/service-kit';
import { GatewayConfig } from '../config/env';
import { GATEWAY_CONFIG } from '../gateway.tokens';

// Note [Bundle tokens]
// The agent bundle is served only against a one-time token minted for one launch: the token is
// in that instance's user data, the gateway keeps only its sha256 and an expiry, and the first
// complete download spends it. Tokens live in this process's memory: with several gateway
// replicas behind one URL, route /v1/agent-bundle to the replica that launched (or run one).
// A launch that is retried mints a new token; unspent ones expire (NEPHELE_AGENT_BUNDLE_TOKEN_TTL_MS).

export interface AgentBundleFile {
  bytes: Buffer;
  sha256: string;
}

@Injectable()
export class AgentBundleService {
  private readonly tokens = new Map<string, number>();
  private cached?: { mtimeMs: number; file: AgentBundleFile };

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Bootstrap is on when the gateway knows the URL guests reach it at. */
  get enabled(): boolean {
    return this.config.agentBundle.publicUrl !== undefined;
  }

  /** The bundle and its checksum (re-read when the file changes). */
  async file(): Promise<AgentBundleFile> {
    const p = this.config.agentBundle.path;
    const st = await stat(p);
    if (this.cached?.mtimeMs !== st.mtimeMs) {
      const bytes = await readFile(p);
      this.cached = {
        mtimeMs: st.mtimeMs,
        file: { bytes, sha256: createHash('sha256').update(bytes).digest('hex') },
      };
    }
    return this.cached.file;
  }

  /** A new one-time download token (see Note [Bundle tokens]). */
  mint(): string {
    const now = this.clock.now().getTime();
    for (const [k, exp] of this.tokens) if (exp <= now) this.tokens.delete(k);
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(hash(token), now + this.config.agentBundle.tokenTtlMs);
    return token;
  }

  /** True once for a token minted here and not expired; spends it. */
  redeem(token: string | undefined): boolean {
    if (!token) return false;
    const k = hash(token);
    const exp = this.tokens.get(k);
    if (exp === undefined) return false;
    this.tokens.delete(k);
    return exp > this.clock.now().getTime();
  }

  /**
   * The user data an instance of `driver` gets: the agent's #cloud-config when the driver boots
   * images and the user data is the DPE's identity blob; anything else unchanged.
   */
  async userDataFor(driver: CloudDriver, userData: string | undefined): Promise<string | undefined> {
    if (!driver.capabilities.cloudInit || !this.enabled) return userData;
    const identity = parseAgentUserData(userData);
    if (!identity) return userData;
    const { sha256 } = await this.file();
    // A guest's loopback is its own: URLs naming this host's loopback go to the address at which
    // the guest reaches the host (QEMU user-mode networking: 10.0.2.2).
    const host = driver.capabilities.guestHostAddress;
    const reach = (url: string) => (host ? loopbackTo(url, host) : url);
    const base = reach(this.config.agentBundle.publicUrl!).replace(/\/+$/, '');
    return agentCloudConfig({
      identity: { ...identity, amqp10Url: reach(identity.amqp10Url) },
      bundle: { url: `${base}/v1/agent-bundle`, sha256, token: this.mint() },
    });
  }
}

/** The URL with a loopback host (127.0.0.0/8, localhost, [::1]) replaced by `host`. */
export function loopbackTo(url: string, host: string): string {
  return url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?)(127(?:\.\d{1,3}){3}|localhost|\[::1\])(?=[:/]|$)/i,
    `$1${host}`,
  );
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
