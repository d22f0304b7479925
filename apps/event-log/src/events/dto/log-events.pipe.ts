import { Injectable, PipeTransform } from '@nestjs/common';
import { CloudEvent, FieldError, validateMessage } from '@nephele/contracts';
import { ProblemException } from '@nephele/service-kit';
import { unstorableFields } from '../storable.util';

export const MAX_BATCH = 1000;

/**
 * The body of `POST /v1/events`: one CloudEvent (structured mode) or a batch (a JSON array), as
 * CloudEvents' JSON format says. Its envelope is open (any extension attribute) and its `data` is
 * the class-validator contract of its type, so the contracts registry (`validateMessage`, the
 * check every bus consumer makes too) validates it, once, here; events without a `time` get one.
 */
@Injectable()
export class LogEventsPipe implements PipeTransform<unknown, CloudEvent[]> {
  transform(body: unknown): CloudEvent[] {
    const batch = Array.isArray(body);
    const items: unknown[] = batch ? body : [body];
    if (items.length === 0)
      throw ProblemException.badRequest('empty batch', [{ field: '', message: 'send at least one event' }]);
    if (items.length > MAX_BATCH) {
      throw ProblemException.badRequest('batch too large', [
        { field: '', message: `at most ${MAX_BATCH} events per request` },
      ]);
    }
    const errors: FieldError[] = [];
    const events: CloudEvent[] = [];
    items.forEach((item, i) => {
      const withTime =
        item && typeof item === 'object' && !Array.isArray(item) && (item as CloudEvent).time === undefined
          ? { ...(item as object), time: new Date().toISOString() }
          : item;
      const prefix = batch ? `[${i}].` : '';
      const unstorable = unstorableFields(withTime);
      if (unstorable.length) {
        errors.push(...unstorable.map((e) => ({ field: `${prefix}${e.field}`, message: e.message })));
        return;
      }
      const r = validateMessage(withTime);
      if (!r.ok) errors.push(...r.errors.map((e) => ({ field: `${prefix}${e.field}`, message: e.message })));
      else events.push(r.value);
    });
    if (errors.length) throw ProblemException.badRequest('invalid CloudEvent', errors);
    return events;
  }
}
