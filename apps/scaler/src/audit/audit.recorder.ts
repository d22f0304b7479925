import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { AuditData, createEvent } from '@nephele/contracts';
import { Principal } from '@nephele/service-kit';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { SCALER_OUTBOX } from '../scaler.tokens';

export interface ScalerChange {
  resource: 'groups' | 'policies' | 'webhooks' | 'servers';
  /** create, update, delete, pause, resume, converge, … */
  action: string;
  id: string;
  project: string | null;
  /** What the change left; never a secret (webhook secrets and capabilities stay out). */
  after?: Record<string, unknown>;
}

/**
 * Writes `nephele.audit.<resource>.<action>` into the outbox inside the change's own transaction
 * (the same event config-api and the CPE publish): who did what to which group, policy or webhook.
 */
@Injectable()
export class AuditRecorder {
  constructor(@Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay) {}

  async record(tx: EntityManager, p: Principal, c: ScalerChange): Promise<void> {
    const data: AuditData = { actor: p.tokenId, action: c.action, resource: c.resource, resourceId: c.id };
    if (c.project) data.project = c.project;
    if (c.after) data.after = c.after;
    await enqueueEvents(tx, SCALER_SCHEMA, [
      createEvent(SERVICE, `nephele.audit.${c.resource}.${c.action}`, data, {
        subject: c.id,
        project: c.project,
      }),
    ]);
  }

  /** After the commit: publish now rather than at the relay's next poll. */
  committed(): void {
    this.outbox.nudge();
  }
}
