import { INestApplication } from '@nestjs/common';
import { Bus, LoggerLike } from '@nephele/bus';
import { BUS, LOGGER, SERVICE_NAME } from '../tokens';
import { BusServer } from './bus.server';
import { BusQueueTuning } from './queue-tuning';

/**
 * Connects the bus transport to an app (see Note [Bus transport]): discovers every handler now
 * (an app with a duplicate or missing handler fails here), and opens the queues when the app is
 * initialised — after every module's bootstrap hooks, before the HTTP port opens.
 */
export function connectBusTransport(app: INestApplication): BusServer {
  const server = new BusServer(app.get<Bus>(BUS), {
    service: app.get<string>(SERVICE_NAME),
    log: app.get<LoggerLike>(LOGGER),
    tuning: app.get(BusQueueTuning),
  });
  app.connectMicroservice({ strategy: server });
  server.assertComplete();
  const init = (Object.getPrototypeOf(app) as INestApplication).init;
  let started: Promise<INestApplication> | undefined;
  // `listen` calls `init` when the app was not initialised yet, so both paths open the queues.
  // Defined, not assigned: Nest's app proxy ignores assignments. Called on the app itself (the
  // proxy calls its target's methods), so `init` runs with the `this` Nest expects.
  Object.defineProperty(app, 'init', {
    configurable: true,
    value(this: INestApplication): Promise<INestApplication> {
      return (started ??= init.call(this).then(async () => {
        await app.startAllMicroservices();
        return app;
      }));
    },
  });
  return server;
}
