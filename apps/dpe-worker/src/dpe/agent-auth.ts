import { agentCredential, AgentCommand, signAgentMessage, verifyAgentMessage } from '@nephele/contracts';

// See Note [Agent identity] in @nephele/contracts. The DPE side: it derives each assembly's
// credential from the deployable's agent key (read from the CPE), signs the commands it sends and
// accepts an agent message only when it is signed with the credential of the assembly it names.
// Refusals are audited, at most one event per assembly and reason every AUDIT_EVERY_MS (a flood
// of forgeries must not become a flood of events).

const AUDIT_EVERY_MS = 10_000;

export interface AgentRefusal {
  assemblyId?: string;
  kind?: string;
  reason: string;
  count: number;
}

export class AgentAuth {
  private readonly credentials = new Map<string, string>();
  private readonly audited = new Map<string, { at: number; count: number }>();

  constructor(
    private readonly agentKey: string | undefined,
    private readonly audit: (r: AgentRefusal) => void,
    private readonly now: () => number,
  ) {}

  /** The credential of one assembly incarnation (put in its user data). */
  credential(assemblyId: string): string | undefined {
    if (!this.agentKey) return undefined;
    let c = this.credentials.get(assemblyId);
    if (!c) {
      c = agentCredential(this.agentKey, assemblyId);
      this.credentials.set(assemblyId, c);
      if (this.credentials.size > 10_000) this.credentials.delete(this.credentials.keys().next().value!);
    }
    return c;
  }

  sign(assemblyId: string, cmd: AgentCommand): AgentCommand {
    const c = this.credential(assemblyId);
    return c ? signAgentMessage(c, cmd) : cmd;
  }

  /**
   * Whether a message received from "an agent" was signed by the assembly it names. A refusal
   * is audited (rate-limited) and its reason returned.
   */
  check(body: unknown): string | undefined {
    const b = (body ?? {}) as { assemblyId?: unknown; kind?: unknown };
    const assemblyId = typeof b.assemblyId === 'string' ? b.assemblyId.slice(0, 200) : undefined;
    const kind = typeof b.kind === 'string' ? b.kind.slice(0, 100) : undefined;
    let reason: string | undefined;
    if (!this.agentKey) reason = 'this DPE has no agent key: agent messages cannot be authenticated';
    else if (!assemblyId) reason = 'no assemblyId';
    else if (!verifyAgentMessage(this.credential(assemblyId)!, body))
      reason = `not signed with the credential of assembly ${assemblyId}`;
    if (reason) this.refused(assemblyId, kind, reason);
    return reason;
  }

  private refused(assemblyId: string | undefined, kind: string | undefined, reason: string): void {
    const key = `${assemblyId}|${reason}`;
    const now = this.now();
    const prev = this.audited.get(key);
    if (prev && now - prev.at < AUDIT_EVERY_MS) {
      prev.count++;
      return;
    }
    const count = (prev?.count ?? 0) + 1;
    this.audited.set(key, { at: now, count: 0 });
    if (this.audited.size > 1000) this.audited.delete(this.audited.keys().next().value!);
    this.audit({ assemblyId, kind, reason, count });
  }
}
