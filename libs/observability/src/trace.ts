import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const storage = new AsyncLocalStorage<string>();

/** A new W3C traceparent; a child span of `parent` when given (same trace id, new span id). */
export function newTraceparent(parent?: string): string {
  const m = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = m ? m[1] : randomBytes(16).toString('hex');
  const flags = m ? m[3] : '01';
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}

/** Runs `fn` with `traceparent` as the current trace context (HTTP request or consumed message). */
export function withTrace<T>(traceparent: string | undefined, fn: () => T): T {
  return storage.run(traceparent && TRACEPARENT.test(traceparent) ? traceparent : newTraceparent(), fn);
}

/** The current trace context, or undefined outside a traced scope. */
export function currentTraceparent(): string | undefined {
  return storage.getStore();
}

/** The traceparent to put on a message produced now: a child of the current context. */
export function outgoingTraceparent(): string {
  return newTraceparent(storage.getStore());
}
