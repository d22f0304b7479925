import { EntityManager } from 'typeorm';
import { enqueueEvents } from '@nephele/bus';
import { AuditData, createEvent } from '@nephele/contracts';
import { Principal } from './auth';

/** One change made through an API, as the audit trail tells it. */
export interface AuditedChange {
  /** The resource kind, plural (`groups`, `feeds`, …). */
  resource: string;
  /** create, update, delete, pause, … */
  action: string;
  id: string;
  project: string | null;
  /** What the change left; never a secret (the caller leaves credentials and capabilities out). */
  after?: Record<string, unknown>;
}

/**
 * Writes `nephele.audit.<resource>.<action>` into `schema`'s outbox inside the change's own
 * transaction (no dual write): who did what to which resource, filed under its project. The
 * caller nudges its outbox relay after the commit.
 */
export async function enqueueAudit(
  tx: EntityManager,
  schema: string,
  service: string,
  p: Principal,
  c: AuditedChange,
): Promise<void> {
  const data: AuditData = { actor: p.tokenId, action: c.action, resource: c.resource, resourceId: c.id };
  if (c.project) data.project = c.project;
  if (c.after) data.after = c.after;
  await enqueueEvents(tx, schema, [
    createEvent(service, `nephele.audit.${c.resource}.${c.action}`, data, {
      subject: c.id,
      project: c.project,
    }),
  ]);
}
