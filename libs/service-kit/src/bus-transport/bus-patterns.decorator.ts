import {
  EventPattern as NestEventPattern,
  MessagePattern as NestMessagePattern,
} from '@nestjs/microservices';
import { BusHandlerExtras } from './bus.server';

/**
 * Nest's `@EventPattern` for the bus transport: the message type and the Topology queue it arrives
 * on are both required. The method is `(event: CloudEvent<Data>) => Promise<HandlerOutcome>`
 * (`@Payload() event, @Ctx() ctx: MessageContext` when it needs the delivery's context; a batching
 * queue's: `(items: BusBatch) => Promise<HandlerOutcome[]>`).
 */
export function EventPattern(type: string, extras: BusHandlerExtras): MethodDecorator {
  return NestEventPattern(type, extras) as MethodDecorator;
}

/** Nest's `@MessagePattern` for the bus transport: `(event: CloudEvent<Data>) => Promise<Reply>`. */
export function MessagePattern(type: string, extras: BusHandlerExtras): MethodDecorator {
  return NestMessagePattern(type, extras) as MethodDecorator;
}
