import { Injectable } from '@nestjs/common';
import { QueueSpec } from '@nephele/contracts';

/** What a service may tune of a queue at start (from its env), over the Topology defaults. */
export interface QueueTuning {
  prefetch?: number;
  batch?: { size: number; maxWaitMs: number };
}

/**
 * Per-process overrides of queue settings, read by the bus transport when it opens the queues
 * (e.g. the event log's batch size from EVENT_LOG_BATCH_SIZE). Set them in a constructor.
 */
@Injectable()
export class BusQueueTuning {
  private readonly byQueue = new Map<string, QueueTuning>();

  set(queue: QueueSpec, tuning: QueueTuning): void {
    this.byQueue.set(queue.name, tuning);
  }

  /** The spec with its overrides applied. */
  apply(queue: QueueSpec): QueueSpec {
    const t = this.byQueue.get(queue.name);
    return t ? { ...queue, ...t } : queue;
  }
}
