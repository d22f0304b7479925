import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/**
 * Tells live streams of this process that events up to a seq were committed. Streams then read the
 * database from their own position (see Note [Event order]); events committed by other replicas are
 * picked up by the streams' periodic poll.
 */
@Injectable()
export class EventsNotifier {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  committed(maxSeq: string): void {
    this.emitter.emit('committed', maxSeq);
  }

  onCommitted(listener: (maxSeq: string) => void): () => void {
    this.emitter.on('committed', listener);
    return () => this.emitter.off('committed', listener);
  }
}
