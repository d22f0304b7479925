import { Inject, Injectable } from '@nestjs/common';
import { enqueueEvents, OutboxRelay } from '@nephele/bus';
import { AuditData, ConfigChangedData, createEvent } from '@nephele/contracts';
import { redactSecrets } from '@nephele/crypto';
import { outgoingTraceparent } from '@nephele/observability';
import { OUTBOX_RELAY } from '../config-api.tokens';
import { CONFIG_API_SCHEMA } from '../data-source';
import { Db } from './resource.repository';

export const SERVICE = 'config-api';

export interface Change {
  /** Who acted: the token id, `bootstrap` or `system`. */
  actor: string;
  resource: string;
  /** `created | updated | deleted` for `nephele.config.changed`; the audit may say more (`revoked`). */
  action: 'created' | 'updated' | 'deleted';
  auditAction?: string;
  id: string;
  project?: string | null;
  version?: number;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/**
 * Writes `nephele.config.changed` and `nephele.audit.<resource>.<action>` into the outbox inside the
 * change's own transaction (see Note [Outbox] in @nephele/bus), with secrets redacted.
 */
@Injectable()
export class ChangeRecorder {
  constructor(@Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay) {}

  async record(tx: Db, c: Change): Promise<void> {
    const project = c.project ?? undefined;
    const traceparent = outgoingTraceparent();
    const changed: ConfigChangedData = { resource: c.resource, id: c.id, action: c.action, project };
    if (c.version !== undefined) changed.version = c.version;
    const action = c.auditAction ?? c.action;
    const audit: AuditData = { actor: c.actor, action, resource: c.resource, resourceId: c.id, project };
    if (c.before) audit.before = redactSecrets(c.before);
    if (c.after) audit.after = redactSecrets(c.after);
    await enqueueEvents(tx, CONFIG_API_SCHEMA, [
      createEvent(SERVICE, 'nephele.config.changed', changed, { subject: c.id, traceparent }),
      createEvent(SERVICE, `nephele.audit.${c.resource}.${action}`, audit, { subject: c.id, traceparent }),
    ]);
  }

  /** After the commit: publish now rather than at the next poll. */
  committed(): void {
    this.relay.nudge();
  }
}
