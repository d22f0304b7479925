import { isTemporaryAddress } from './edge-router';

/** What a management principal is, as the listener stamps it on each message (no secret in it). */
export interface EdgeClaims {
  /** Token id (`bootstrap` for the bootstrap admin token); agents: absent. */
  tokenId?: string;
  role?: 'admin' | 'member' | 'viewer';
  /** The token's project (members and viewers). */
  project?: string;
}

/** Who a peer is, once authenticated, and what it may attach to. */
export interface EdgePrincipal {
  /** The identity (`token:<id>`, `agent:<assembly id>`, `anonymous`); stamped on what the peer sends. */
  name: string;
  /**
   * Whether the peer may attach a link: `send` to an address, or `receive` from one (router
   * addresses: `/queue/` already removed). Absent = anything.
   */
  mayAttach?(role: 'send' | 'receive', address: string): boolean;
  /** Stamped on every message the peer sends (annotation `x-nephele-claims`); see EdgeMessage.claims. */
  claims?: EdgeClaims;
  /**
   * Whether the credential still holds (a token revoked since login answers false). Checked before
   * each message the peer sends and periodically for every open connection; false closes it.
   */
  revalidate?(): Promise<boolean>;
}

/** Checks SASL PLAIN credentials: a principal, or null to refuse. May be async; must not throw. */
export type EdgeVerifier = (
  username: string,
  password: string,
) => Promise<EdgePrincipal | null | undefined> | EdgePrincipal | null | undefined;

// Note [Edge authentication]
// Nobody on the edge is anonymous (ARCHITECTURE §1). A peer logs in with SASL PLAIN and the
// listener asks its verifiers in order; the first that answers a principal wins. Two kinds exist:
// - management clients: the password is a Nephele API token (any username). Their principal may
//   send to `nephele.cpe` and receive from reply addresses only; its claims (token id, role,
//   project) ride on each request so the CPE decides what the caller may do, and the token is
//   re-checked before each message and periodically (a revoked token's connection is closed).
// - agents: their assembly's credential. Their principal may receive from `nephele.agent.<their
//   assembly>` and send to their deployable's agent events address and to in-process reply
//   addresses (answers to the DPE's commands).
// New kinds (the per-assembly agent credential) plug in with EdgeAuthRegistry.add.
/** An ordered list of verifiers: the listener's SASL PLAIN check. */
export class EdgeAuthRegistry {
  private readonly verifiers: { name: string; verify: EdgeVerifier }[] = [];

  /**
   * Adds a verifier under a name (replacing one of that name); `first` puts it before the others.
   * Returns a function that removes it.
   */
  add(name: string, verify: EdgeVerifier, opts: { first?: boolean } = {}): () => void {
    this.remove(name);
    const entry = { name, verify };
    if (opts.first) this.verifiers.unshift(entry);
    else this.verifiers.push(entry);
    return () => {
      const i = this.verifiers.indexOf(entry);
      if (i >= 0) this.verifiers.splice(i, 1);
    };
  }

  remove(name: string): void {
    const i = this.verifiers.findIndex((v) => v.name === name);
    if (i >= 0) this.verifiers.splice(i, 1);
  }

  names(): string[] {
    return this.verifiers.map((v) => v.name);
  }

  get size(): number {
    return this.verifiers.length;
  }

  /** The first principal a verifier answers, or null. A verifier that throws counts as a refusal. */
  async verify(username: string, password: string): Promise<EdgePrincipal | null> {
    for (const v of [...this.verifiers]) {
      let p: EdgePrincipal | null | undefined;
      try {
        p = await v.verify(username, password);
      } catch {
        p = null;
      }
      if (p) return p;
    }
    return null;
  }
}

/** The management address (ARCHITECTURE §5). */
const CPE_ADDRESS = 'nephele.cpe';

/**
 * A management client's principal: may send requests to `nephele.cpe` and receive its replies
 * (a reply or dynamic address); nothing else.
 */
export function managementPrincipal(
  claims: Required<Pick<EdgeClaims, 'tokenId' | 'role'>> & EdgeClaims,
  revalidate?: () => Promise<boolean>,
): EdgePrincipal {
  return {
    name: `token:${claims.tokenId}`,
    claims: {
      tokenId: claims.tokenId,
      role: claims.role,
      ...(claims.project ? { project: claims.project } : {}),
    },
    mayAttach: (role, address) => (role === 'send' ? address === CPE_ADDRESS : isTemporaryAddress(address)),
    ...(revalidate ? { revalidate } : {}),
  };
}

/** `<deployable id>.<assembly name>.<incarnation>`, as the DPE names an assembly's agent. */
const ASSEMBLY_ID =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_.:-]{1,160}\.\d{1,9}$/;

/** The deployable an assembly id belongs to, or undefined when it is not one. */
export function deployableOfAssembly(assemblyId: string): string | undefined {
  return ASSEMBLY_ID.exec(assemblyId)?.[1];
}

/**
 * An agent's principal: receives its own commands (`nephele.agent.<assemblyId>`), sends reports
 * and heartbeats to its deployable's events address and answers to reply addresses (the listener
 * lets remote peers send only to reply addresses an in-process receiver owns).
 */
export function agentPrincipal(
  assemblyId: string,
  deployableId: string,
  revalidate?: () => Promise<boolean>,
): EdgePrincipal {
  const commands = `nephele.agent.${assemblyId}`;
  const events = `nephele.agent.events.${deployableId}`;
  return {
    name: `agent:${assemblyId}`,
    mayAttach: (role, address) =>
      role === 'receive' ? address === commands : address === events || isTemporaryAddress(address),
    ...(revalidate ? { revalidate } : {}),
  };
}

/**
 * Interim agent login until each assembly gets its own credential: username = the assembly id
 * (`<deployable uuid>.<assembly>.<n>`), empty password; scoped as `agentPrincipal`. It proves
 * nothing about the peer — the per-assembly credential verifier replaces it (remove it by name).
 */
export function unverifiedAgentVerifier(): EdgeVerifier {
  return (username, password) => {
    if (password !== '') return null;
    const deployable = deployableOfAssembly(username);
    return deployable ? agentPrincipal(username, deployable) : null;
  };
}
