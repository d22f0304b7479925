export * from './edge.types';
export {
  brokerAddress,
  routerAddress,
  encodeMessage as encodeEdgeMessage,
  decodeMessage as decodeEdgeMessage,
  idToString,
} from './edge-message.util';
export type { DecodedEdgeMessage } from './edge-message.util';
export { EdgeConnectionBase } from './edge-connection.base';
export * from './edge-client';
export * from './edge-router';
export * from './edge-listener';
export * from './edge.factory';
