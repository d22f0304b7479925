import {
  applyDecorators,
  ArgumentsHost,
  Catch,
  Controller,
  RpcExceptionFilter,
  UseFilters,
} from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Hands a handler's exception to the bus transport as it was thrown. Nest's default RPC filter
 * would replace it with "Internal server error"; the transport needs the original: a requester
 * reads its message, and `Outcome.failed` dead-letters what the database refused (SQLSTATE 22).
 */
@Catch()
export class BusExceptionPassthrough implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}

/**
 * Marks a class as a bus adapter: its `@EventPattern(Type, { queue })` and
 * `@MessagePattern(Type, { queue })` methods are discovered at start-up by the bus transport
 * (`BusServer`). List it in its module's `controllers` (Nest discovers handlers there only).
 */
export function BusConsumer(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(new BusExceptionPassthrough()));
}
