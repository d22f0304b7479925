import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { ValidatorOptions } from 'class-validator';
import { FieldError, toFieldErrors } from '@nephele/contracts';
import type { LoggerLike } from '@nephele/bus';
import { acceptsUnknownFields } from './validation';

/** RFC 9457 problem details: the error body of every Nephele REST API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** An HTTP error carrying a problem body. Throw it from services and controllers. */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    detail: string,
    extra: { errors?: FieldError[]; type?: string; [k: string]: unknown } = {},
  ) {
    super({ status, detail, ...extra }, status);
  }
  static badRequest(detail: string, errors?: FieldError[]): ProblemException {
    return new ProblemException(400, detail, { errors });
  }
  static notFound(what: string): ProblemException {
    return new ProblemException(404, `${what} not found`);
  }
  static conflict(detail: string, extra: Record<string, unknown> = {}): ProblemException {
    return new ProblemException(409, detail, extra);
  }
  static preconditionFailed(
    detail = 'the resource changed since you read it (ETag mismatch)',
  ): ProblemException {
    return new ProblemException(412, detail);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, detail?: string, errors?: FieldError[]): Problem {
  const p: Problem = { type: 'about:blank', title: TITLES[status] ?? HttpStatus[status] ?? 'Error', status };
  if (detail) p.detail = detail;
  if (errors?.length) p.errors = errors;
  return p;
}

/** Turns every error into `application/problem+json`; a 5xx is logged, its details never leak. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly log?: LoggerLike) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const body = this.toProblem(exception, req);
    if (body.status >= 500) {
      this.log?.error(
        { err: (exception as Error)?.message, stack: (exception as Error)?.stack, path: req.path },
        'request failed',
      );
    }
    if (res.headersSent) return;
    res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }

  private toProblem(exception: unknown, req: Request): Problem {
    // body-parser errors: malformed JSON, too large, wrong charset.
    const e = exception as { type?: string; status?: number; statusCode?: number; message?: string };
    if (
      e &&
      typeof e.type === 'string' &&
      typeof (e.status ?? e.statusCode) === 'number' &&
      !(exception instanceof HttpException)
    ) {
      const status = (e.status ?? e.statusCode)!;
      const detail =
        e.type === 'entity.parse.failed'
          ? `malformed JSON body: ${e.message ?? ''}`.trim()
          : e.type === 'entity.too.large'
            ? 'request body too large'
            : (e.message ?? 'bad request');
      return { ...problem(status, detail), instance: req.originalUrl };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const r = exception.getResponse();
      if (typeof r === 'object' && r !== null) {
        const o = r as Record<string, unknown>;
        const detail =
          typeof o.detail === 'string'
            ? o.detail
            : Array.isArray(o.message)
              ? o.message.join('; ')
              : typeof o.message === 'string'
                ? o.message
                : undefined;
        const { status: _s, message: _m, error: _e, statusCode: _c, detail: _d, ...rest } = o;
        return { ...problem(status, detail), ...rest, instance: req.originalUrl };
      }
      return { ...problem(status, String(r)), instance: req.originalUrl };
    }
    // PostgreSQL's data exceptions (class 22: a number beyond its column, a NUL character in text
    // or jsonb, an impossible date) mean the client sent a value that cannot be stored: a bad
    // request, not a failure of ours. Validation should have named the field; this is the net.
    const code = (exception as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
      const detail =
        code === '22021' || code === '22P05'
          ? 'a value contains a character that cannot be stored (NUL, \\u0000)'
          : 'a value is out of range or cannot be stored';
      return { ...problem(400, detail), instance: req.originalUrl };
    }
    return { ...problem(500, 'internal error'), instance: req.originalUrl };
  }
}

/**
 * The global ValidationPipe: a DTO marked `@AcceptsUnknownFields()` has its unknown fields dropped
 * instead of refused (Note [Request DTOs]).
 */
class NepheleValidationPipe extends ValidationPipe {
  protected override validate(object: object, options?: ValidatorOptions) {
    const lenient = acceptsUnknownFields((object as { constructor?: unknown }).constructor);
    return super.validate(object, lenient ? { ...options, forbidNonWhitelisted: false } : options);
  }
}

/** Validation of bodies, queries and params: unknown fields refused, each bad field named once. */
export function createValidationPipe(): ValidationPipe {
  return new NepheleValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    stopAtFirstError: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors: ValidationError[]) =>
      new BadRequestException({ detail: 'validation failed', errors: toFieldErrors(errors as never) }),
  });
}
