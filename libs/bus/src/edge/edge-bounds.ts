import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Connection } from 'rhea';
import { LoggerLike } from '../logger.types';

// The listener's byte bounds (see Note [Edge listener]): enforced on the wire, before rhea
// buffers a frame or joins a message's transfers.

/**
 * Reads frame headers as bytes arrive, before rhea buffers them: a frame bigger than allowed
 * (our max-frame-size is advertised in the open frame) destroys the socket at once.
 */
export function boundFrames(socket: Socket | TLSSocket, maxMessageBytes: number, log: LoggerLike): void {
  const limit = Math.max(maxMessageBytes, 65_536) + 1024;
  let header = Buffer.alloc(0);
  let skip = 0;
  // Protocol headers: one at the start; a second (AMQP, id 0) only after a SASL one (id 3).
  let headers = 0;
  let sasl = false;
  const drop = (why: string, size?: number) => {
    log.warn({ size, limit, why }, 'edge: bad framing; connection dropped');
    socket.off('data', onData);
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      const need = 8 - header.length;
      const take = chunk.subarray(i, i + need);
      header = Buffer.concat([header, take]);
      i += take.length;
      if (header.length < 8) return;
      if (header.subarray(0, 4).toString('latin1') === 'AMQP') {
        if (headers === 0 || (headers === 1 && sasl && header[4] === 0)) {
          sasl = headers === 0 && header[4] === 3;
          headers++;
          header = Buffer.alloc(0);
          continue;
        }
        return drop('unexpected protocol header');
      }
      const size = header.readUInt32BE(0);
      if (size < 8 || size > limit) return drop('frame too large', size);
      skip = size - 8;
      header = Buffer.alloc(0);
    }
  };
  socket.prependListener('data', onData);
}

/**
 * Counts the bytes of each delivery a peer is sending on this session as its transfer frames
 * arrive (rhea would join them all first): beyond `maxMessageBytes` the connection is closed
 * with amqp:link:message-size-exceeded and the rest is dropped, not buffered.
 */
export function boundMessages(
  session: unknown,
  max: number,
  log: LoggerLike,
  tooLarge: (conn: Connection) => void,
): void {
  type Frame = { performative: { more?: boolean; handle?: number }; payload?: Buffer };
  type Sess = {
    on_transfer(frame: Frame): void;
    _get_link(frame: Frame): { connection: Connection } | undefined;
    incoming: { next_transfer_id: number };
    connection: Connection;
    nepheleBounded?: boolean;
  };
  const s = session as Sess;
  if (s.nepheleBounded) return;
  s.nepheleBounded = true;
  const original = s.on_transfer.bind(s);
  const pending = new WeakMap<object, number>();
  let dropping = false;
  s.on_transfer = (frame: Frame) => {
    if (dropping) {
      s.incoming.next_transfer_id++;
      return;
    }
    const link = s._get_link(frame);
    if (link) {
      const size = (pending.get(link) ?? 0) + (frame.payload?.length ?? 0);
      if (size > max) {
        dropping = true;
        s.incoming.next_transfer_id++;
        const conn = s.connection;
        log.warn({ max }, 'edge: message too large; connection closed');
        tooLarge(conn);
        return;
      }
      if (frame.performative.more) pending.set(link, size);
      else pending.delete(link);
    }
    original(frame);
  };
}
