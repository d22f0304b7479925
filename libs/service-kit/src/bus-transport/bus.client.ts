import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { Bus } from '@nephele/bus';
import { CloudEvent, createEvent, validateCloudEvent } from '@nephele/contracts';

/** A CloudEvent the caller built (to set its subject or project), or just the data of one. */
function toEvent(source: string, pattern: unknown, data: unknown): CloudEvent {
  if (typeof pattern !== 'string')
    throw new Error(`bus pattern must be a message type, got ${String(pattern)}`);
  const env = validateCloudEvent(data);
  if (env.ok) {
    if (env.value.type !== pattern) throw new Error(`event of type ${env.value.type} sent as ${pattern}`);
    return env.value;
  }
  return createEvent(source, pattern, (data ?? {}) as object);
}

/**
 * The client side of the bus transport (see Note [Bus transport]): `send(Type, data)` is a request
 * answered by the service's `@MessagePattern(Type)` handler (the reply, or its error), `emit(Type,
 * data)` publishes an event and completes when the broker confirmed it. `data` is the message's data
 * (wrapped in a CloudEvent from this service) or a whole CloudEvent of that type.
 */
export class BusClient extends ClientProxy {
  constructor(
    private readonly bus: Bus,
    private readonly service: string,
    private readonly timeoutMs = 10_000,
  ) {
    super();
  }

  async connect(): Promise<void> {
    // The bus is started by CoreModule before anything can use this client.
  }

  close(): void {
    // The bus is CoreModule's to close.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let event: CloudEvent;
    try {
      event = toEvent(`/nephele/${this.service}`, packet.pattern, packet.data);
    } catch (e) {
      callback({ err: e, isDisposed: true });
      return () => undefined;
    }
    this.bus.request(event, { timeoutMs: this.timeoutMs }).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err, isDisposed: true }),
    );
    // A bus request cannot be withdrawn; its reply is dropped when the caller unsubscribed.
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    await this.bus.publish(toEvent(`/nephele/${this.service}`, packet.pattern, packet.data));
    return undefined as T;
  }

  protected override serializeError(err: unknown): unknown {
    return err;
  }
}
