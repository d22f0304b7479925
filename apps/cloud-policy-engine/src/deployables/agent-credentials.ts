import { Injectable } from '@nestjs/common';
import { deployableOfAssembly, verifyAgentCredential } from '@nephele/contracts';
import { DeployablesRepository } from './deployables.repository';

/** Who an authenticated agent is: the only addresses it may use are its own. */
export interface AgentPrincipal {
  kind: 'agent';
  assemblyId: string;
  deployableId: string;
  /** `nephele.agent.<assemblyId>` (receive commands) and `nephele.agent.events.<deployableId>` (send). */
  addresses: { commands: string; events: string };
}

/**
 * The SASL PLAIN check of agents for an edge listener (Note [Agent identity] in
 * @nephele/contracts): username = the assembly id, password = its credential. The edge plugs
 * `verify` into its verifier chain; it resolves null for anything that is not a valid agent login
 * (so the next verifier, e.g. API tokens, can try).
 */
@Injectable()
export class AgentCredentials {
  constructor(private readonly repo: DeployablesRepository) {}

  async verify(username: string, password: string): Promise<AgentPrincipal | null> {
    const deployableId = deployableOfAssembly(username);
    if (!deployableId || !/^[0-9a-f-]{36}$/i.test(deployableId)) return null;
    if (!(await this.repo.exists(deployableId))) return null;
    const key = await this.repo.agentKey(deployableId);
    if (!key || !verifyAgentCredential(key, username, password)) return null;
    return {
      kind: 'agent',
      assemblyId: username,
      deployableId,
      addresses: { commands: `nephele.agent.${username}`, events: `nephele.agent.events.${deployableId}` },
    };
  }
}
