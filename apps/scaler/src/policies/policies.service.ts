import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { FieldError } from '@nephele/contracts';
import { CLOCK, Clock, checkIfMatch, Principal, ProblemException } from '@nephele/service-kit';
import { AuditRecorder } from '../audit/audit.recorder';
import { GroupRow, PolicyRow, WebhookRow } from '../state/group.types';
import { failIfErrors, policyInput } from '../groups/group.inputs';
import { PoliciesRepository } from '../state/policies.repository';
import { GroupsRepository } from '../state/groups.repository';
import { GroupsService, MAX_POLICIES, UUID } from '../groups/groups.service';
import { CreateWebhookDto, PolicyDto } from './dto/policy.dto';
import { PolicyExecutorService } from './policy-executor.service';

export const CAPABILITY = /^[0-9a-f]{64}$/;
export const MAX_WEBHOOKS_PER_POLICY = 25;

export const capabilityHash = (capability: string) => createHash('sha256').update(capability).digest('hex');

/** Policies of a group, their manual execution and their capability webhooks. */
@Injectable()
export class PoliciesService {
  constructor(
    private readonly repo: GroupsRepository,
    private readonly policies: PoliciesRepository,
    private readonly groups: GroupsService,
    private readonly executor: PolicyExecutorService,
    private readonly audit: AuditRecorder,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async policy(groupId: string, policyId: string, p: Principal): Promise<PolicyRow> {
    return (await this.visiblePolicy(groupId, policyId, p)).policy;
  }

  /** The policy with its group, if `p` may see them; 404 otherwise. */
  private async visiblePolicy(
    groupId: string,
    policyId: string,
    p: Principal,
  ): Promise<{ group: GroupRow; policy: PolicyRow }> {
    const group = await this.groups.visible(groupId, p);
    const policy = UUID.test(policyId) ? await this.repo.getPolicy(groupId, policyId) : undefined;
    if (!policy) throw ProblemException.notFound(`policy ${policyId}`);
    return { group, policy };
  }

  async list(groupId: string, p: Principal): Promise<PolicyRow[]> {
    await this.groups.visible(groupId, p);
    return this.repo.listPolicies(groupId);
  }

  async create(groupId: string, body: PolicyDto, p: Principal): Promise<PolicyRow> {
    await this.groups.visible(groupId, p);
    const now = this.clock.now();
    const errors: FieldError[] = [];
    const input = policyInput(body, now, '', errors);
    failIfErrors(errors);
    const id = randomUUID();
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, groupId);
      if (!g) throw ProblemException.notFound(`group ${groupId}`);
      if ((await this.repo.countPolicies(tx, groupId)) >= MAX_POLICIES) {
        throw ProblemException.conflict(`group ${groupId} already has ${MAX_POLICIES} policies`);
      }
      await this.repo.insertPolicy(tx, id, groupId, input, this.groups.nextFiring(input, id, now), now);
      await this.audit.record(tx, p, {
        resource: 'policies',
        action: 'create',
        id,
        project: g.project,
        after: { groupId, name: input.name, type: input.type },
      });
    });
    this.audit.committed();
    return (await this.repo.getPolicy(groupId, id))!;
  }

  async replace(
    groupId: string,
    policyId: string,
    body: PolicyDto,
    ifMatch: string | undefined,
    p: Principal,
  ): Promise<PolicyRow> {
    await this.policy(groupId, policyId, p);
    const now = this.clock.now();
    const errors: FieldError[] = [];
    const input = policyInput(body, now, '', errors);
    failIfErrors(errors);
    await this.repo.transaction(async (tx) => {
      const g = await this.repo.lockGroup(tx, groupId);
      const row = g ? await this.repo.lockPolicy(tx, policyId) : undefined;
      if (!row || row.group_id !== groupId) throw ProblemException.notFound(`policy ${policyId}`);
      checkIfMatch(ifMatch, row.version);
      // A capability URL was handed out for what the policy is; a new type would make an old URL
      // do something else. Delete the policy and create another instead.
      if (input.type !== row.type) {
        throw ProblemException.badRequest('a policy type cannot change', [
          {
            field: 'type',
            message: `type is ${row.type} and cannot be changed; create a new policy instead`,
          },
        ]);
      }
      // Firings are counted from the change: a new schedule does not catch up on the old one's.
      await this.repo.replacePolicy(tx, policyId, input, this.groups.nextFiring(input, policyId, now), now);
      await this.audit.record(tx, p, {
        resource: 'policies',
        action: 'update',
        id: policyId,
        project: g!.project,
        after: { groupId, name: input.name, type: input.type, version: row.version + 1 },
      });
    });
    this.audit.committed();
    return (await this.repo.getPolicy(groupId, policyId))!;
  }

  async remove(groupId: string, policyId: string, p: Principal): Promise<void> {
    const { group: g } = await this.visiblePolicy(groupId, policyId, p);
    await this.repo.transaction(async (tx) => {
      await this.repo.deletePolicy(tx, policyId);
      await this.audit.record(tx, p, {
        resource: 'policies',
        action: 'delete',
        id: policyId,
        project: g.project,
        after: { groupId },
      });
    });
    this.audit.committed();
  }

  async execute(groupId: string, policyId: string, p: Principal) {
    await this.policy(groupId, policyId, p);
    const out = await this.executor.execute(policyId, `api:${p.tokenId}`, groupId);
    if (out.ok) {
      return {
        groupId,
        policyId,
        desiredBefore: out.desiredBefore,
        desiredAfter: out.desiredAfter,
        changed: out.changed,
        reason: out.reason,
      };
    }
    switch (out.refusedBy) {
      case 'group-cooldown':
      case 'policy-cooldown':
        throw new ProblemException(403, out.reason, {
          type: 'https://nephele.dev/problems/cooldown',
          refusedBy: out.refusedBy,
          until: out.until.toISOString(),
        });
      case 'paused':
        throw ProblemException.conflict(out.reason, { refusedBy: 'paused' });
      case 'not-found':
        throw ProblemException.notFound(`policy ${policyId}`);
    }
  }

  // Capability webhooks

  async createWebhook(
    groupId: string,
    policyId: string,
    b: CreateWebhookDto,
    p: Principal,
  ): Promise<{ row: WebhookRow; capability: string }> {
    const { group } = await this.visiblePolicy(groupId, policyId, p);
    // 256 bits from the CSPRNG; only its SHA-256 is stored, the URL is shown once.
    const capability = randomBytes(32).toString('hex');
    const row = await this.repo.transaction(async (tx) => {
      if ((await this.policies.countWebhooks(tx, policyId)) >= MAX_WEBHOOKS_PER_POLICY) {
        throw ProblemException.conflict(`policy ${policyId} already has ${MAX_WEBHOOKS_PER_POLICY} webhooks`);
      }
      const w = await this.repo.insertWebhook(tx, {
        id: randomUUID(),
        groupId,
        policyId,
        name: b.name,
        metadata: b.metadata ?? {},
        hash: capabilityHash(capability),
      });
      // The capability is a bearer secret: the audit trail names the webhook, never its URL.
      await this.audit.record(tx, p, {
        resource: 'webhooks',
        action: 'create',
        id: w.id,
        project: group.project,
        after: { groupId, policyId, name: b.name },
      });
      return w;
    });
    this.audit.committed();
    return { row, capability };
  }

  async listWebhooks(groupId: string, policyId: string, p: Principal): Promise<WebhookRow[]> {
    await this.policy(groupId, policyId, p);
    return this.repo.listWebhooks(policyId);
  }

  async webhook(groupId: string, policyId: string, id: string, p: Principal): Promise<WebhookRow> {
    return (await this.visibleWebhook(groupId, policyId, id, p)).webhook;
  }

  private async visibleWebhook(
    groupId: string,
    policyId: string,
    id: string,
    p: Principal,
  ): Promise<{ group: GroupRow; webhook: WebhookRow }> {
    const { group } = await this.visiblePolicy(groupId, policyId, p);
    const webhook = UUID.test(id) ? await this.repo.getWebhook(policyId, id) : undefined;
    if (!webhook) throw ProblemException.notFound(`webhook ${id}`);
    return { group, webhook };
  }

  async removeWebhook(groupId: string, policyId: string, id: string, p: Principal): Promise<void> {
    const { group: g } = await this.visibleWebhook(groupId, policyId, id, p);
    await this.repo.transaction(async (tx) => {
      await this.repo.deleteWebhook(id, tx);
      await this.audit.record(tx, p, {
        resource: 'webhooks',
        action: 'delete',
        id,
        project: g.project,
        after: { groupId, policyId },
      });
    });
    this.audit.committed();
  }

  /**
   * Executes the policy behind a capability, if there is one. Says nothing about it to the
   * caller (the controller always answers 202); refusals are logged by the executor.
   */
  async executeCapability(capability: string): Promise<void> {
    if (!CAPABILITY.test(capability)) return;
    const w = await this.repo.webhookByHash(capabilityHash(capability));
    if (!w) return;
    await this.executor.execute(w.policy_id, `webhook:${w.id}`, w.group_id);
  }
}

export { ProblemException };
