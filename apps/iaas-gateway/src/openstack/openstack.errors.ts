import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';

/**
 * An error of the OpenStack-compatible API. Each service has its own error body (the clients
 * parse them): Keystone `{error: {code, title, message}}`, Nova `{<fault>: {code, message}}`,
 * Glance and Heat `{code, title, explanation, error: {type, message}}`.
 */
export class OsError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fault?: string,
  ) {
    super(message);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  409: 'conflictingRequest',
  413: 'overLimit',
};

/** The error body each OpenStack service answers with, picked by the request's path. */
export function osErrorBody(path: string, status: number, message: string, fault?: string): unknown {
  const title = TITLES[status] ?? 'Error';
  if (/^\/openstack\/identity/.test(path)) return { error: { code: status, title, message } };
  if (/^\/openstack\/[^/]+\/compute/.test(path))
    return { [fault ?? NOVA_FAULTS[status] ?? 'computeFault']: { code: status, message } };
  return {
    code: status,
    title,
    explanation: message,
    error: { type: fault ?? title.replace(/ /g, ''), message, traceback: null },
  };
}

/** Turns every error under /openstack into the body its clients expect (controller-scoped filter). */
@Catch()
@Injectable()
export class OpenStackErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly log: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    let status = 500;
    let message = 'internal error';
    let fault: string | undefined;
    if (exception instanceof OsError) {
      status = exception.status;
      message = exception.message;
      fault = exception.fault;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse() as
        | { detail?: string; message?: string | string[]; errors?: { field: string; message: string }[] }
        | string;
      message =
        typeof body === 'string'
          ? body
          : body.errors?.length
            ? // A request DTO's 400 (Note [Request DTOs]): each bad field, named as Nova names them.
              body.errors.map((e) => `Invalid input for field/attribute ${e.field}: ${e.message}`).join('; ')
            : (body.detail ??
              (Array.isArray(body.message) ? body.message.join('; ') : body.message) ??
              message);
    } else {
      this.log.error({ err: (exception as Error)?.message, path: req.path }, 'openstack API error');
    }
    if (status === 401)
      res.setHeader(
        'WWW-Authenticate',
        `Keystone uri="${req.protocol}://${req.get('host')}/openstack/identity"`,
      );
    res.status(status).json(osErrorBody(req.path, status, message, fault));
  }
}
