// Types of sse.js (plain browser JavaScript, also unit-tested from TypeScript).

export interface SseMessage {
  /** The last event id in force when this event was dispatched ('' if none yet). */
  id: string;
  event: string;
  data: string;
}

export interface SseParser {
  push(chunk: string): void;
  readonly lastEventId: string;
}

export function createSseParser(
  onMessage: (m: SseMessage) => void,
  onRetry?: (ms: number) => void,
): SseParser;
