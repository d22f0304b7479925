import { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import { json, text } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { AppLogger, withTrace } from '@nephele/observability';
import { connectBusTransport } from './bus-transport';
import { createValidationPipe, ProblemDetailsFilter } from './problem';
import { buildOpenApiDocument } from './openapi';
import { LOGGER } from './tokens';

/** Nest's own log lines through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: AppLogger) {}
  log(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }
}

/** Deepest nesting of objects and arrays a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/** Whether a JSON text nests objects/arrays deeper than `limit` (brackets inside strings ignored). */
export function jsonDepthExceeds(buf: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      // A backslash escapes the next byte; a quote ends the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export interface HttpAppOptions {
  title: string;
  /** Largest accepted JSON body (default 1 MB). */
  bodyLimit?: string;
}

/**
 * Creates a Nest HTTP app with Nephele's conventions: problem details, validation, OpenAPI at /docs,
 * traces, and the bus transport (its consumers start with `init`/`listen`; see Note [Bus transport]).
 */
export async function createHttpApp(rootModule: unknown, opts: HttpAppOptions): Promise<INestApplication> {
  // Errors reach the caller (each main prints them and exits 1) rather than exiting inside Nest.
  const app = await NestFactory.create(rootModule as never, {
    bodyParser: false,
    bufferLogs: true,
    abortOnError: false,
  });
  const log = app.get<AppLogger>(LOGGER);
  app.useLogger(new PinoNestLogger(log));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const tp = req.headers.traceparent;
    withTrace(typeof tp === 'string' ? tp : undefined, next);
  });
  app.use(
    json({
      limit: opts.bodyLimit ?? '1mb',
      type: ['application/json', 'application/*+json'],
      // Kept for signature checks (provider callbacks, webhooks).
      verify: (req, _res, buf) => {
        (req as Request & { rawBody?: Buffer }).rawBody = buf;
        // Validation and logging walk bodies recursively: deep nesting would overflow the stack.
        if (jsonDepthExceeds(buf, MAX_JSON_DEPTH)) {
          throw Object.assign(new Error(`JSON body nested deeper than ${MAX_JSON_DEPTH} levels`), {
            status: 400,
            type: 'entity.too.deep',
          });
        }
      },
    }),
  );
  // YAML and XML documents (deployables) arrive as text and are parsed by the service.
  app.use(
    text({
      limit: opts.bodyLimit ?? '1mb',
      type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'application/xml', 'text/xml'],
    }),
  );
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(log));
  app.enableShutdownHooks();
  const doc = buildOpenApiDocument(app, opts.title);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
  connectBusTransport(app);
  return app;
}
