import { Bus } from './bus.types';
import { LoggerLike } from './logger.types';
import { MemoryBus } from './memory.bus';
import { RabbitMqBus } from './rabbitmq.bus';

let shared: MemoryBus | undefined;

/**
 * `AMQP_URL` set → RabbitMQ; unset → the process-wide in-memory bus (all-in-one: every service
 * module in the process shares it, as they would share the broker).
 */
export function createBus(opts: { url?: string; service: string; logger?: LoggerLike }): Bus {
  if (opts.url) return new RabbitMqBus({ url: opts.url, service: opts.service, logger: opts.logger });
  shared ??= new MemoryBus({ logger: opts.logger });
  return shared;
}
