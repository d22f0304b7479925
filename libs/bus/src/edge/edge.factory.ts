import { EdgeClient, EdgeClientOptions } from './edge-client';
import { EdgeListener, EdgeListenerOptions } from './edge-listener';
import { EdgeConnection } from './edge.types';

/** Where the edge is: through RabbitMQ's AMQP 1.0 plugin, or Nephele listening itself. */
export type EdgeConfig =
  | ({ mode: 'broker' } & EdgeClientOptions)
  | ({ mode: 'listen'; /** This side's id on the router. */ connectionId?: string } & EdgeListenerOptions);

/**
 * One EdgeConnection for either mode. In listen mode the connection owns a new EdgeListener
 * (started and closed with it); to share one listener between several in-process users, make an
 * `EdgeListener` and call its `connect(id)` once per user.
 */
export function createEdgeConnection(config: EdgeConfig): EdgeConnection {
  if (config.mode === 'broker') return new EdgeClient(config);
  const listener = new EdgeListener(config);
  return listener.connect(config.connectionId ?? 'nephele', { ownsListener: true });
}
