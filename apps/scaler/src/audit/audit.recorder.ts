import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { OutboxRelay } from '@nephele/bus';
import { AuditedChange, enqueueAudit, Principal } from '@nephele/service-kit';
import { SCALER_SCHEMA, SERVICE } from '../data-source';
import { SCALER_OUTBOX } from '../scaler.tokens';

export interface ScalerChange extends AuditedChange {
  resource: 'groups' | 'policies' | 'webhooks' | 'servers';
}

/** The scaler's audit trail: groups, policies, webhooks and servers changed through its API. */
@Injectable()
export class AuditRecorder {
  constructor(@Inject(SCALER_OUTBOX) private readonly outbox: OutboxRelay) {}

  record(tx: EntityManager, p: Principal, c: ScalerChange): Promise<void> {
    return enqueueAudit(tx, SCALER_SCHEMA, SERVICE, p, c);
  }

  /** After the commit: publish now rather than at the relay's next poll. */
  committed(): void {
    this.outbox.nudge();
  }
}
