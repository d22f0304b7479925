import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsObject,
  registerDecorator,
  ValidateNested,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';

// Note [Request DTOs]
// Every JSON body is a class-validator DTO, checked once by the global ValidationPipe
// (createValidationPipe): each bad field is named (`config.name`, `policies[0].args.cron`), one
// error per field, and unknown fields are refused. Rules the stock decorators cannot say (a rule
// that reads a sibling, a domain check of libs/scaling) are `Check(problem)`: `problem` returns
// what is wrong with the value, or undefined. A body that must tolerate fields added by newer
// clients (Alertmanager, the OpenStack CLI) is marked `@AcceptsUnknownFields()`: its unknown
// fields are dropped rather than refused. Checks that must come before the body's (401 before
// 400, 404 for another project's object before 400) are guards, which Nest runs before pipes.

/**
 * A property rule: `problem(value, object)` says what is wrong, or undefined. It runs whether or
 * not the value is present (put it after `@IsOptional()` to skip absent values).
 */
export function Check(
  problem: (value: unknown, object: Record<string, unknown>) => string | undefined,
  options: ValidationOptions = {},
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'check',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        ...options,
        message: (a: ValidationArguments) =>
          problem(a.value, a.object as Record<string, unknown>) ?? `${a.property} is invalid`,
      },
      validator: {
        validate: (value: unknown, a: ValidationArguments) =>
          problem(value, a.object as Record<string, unknown>) === undefined,
      },
    });
}

/** A nested DTO: an object (else `message`), validated as `cls`. */
export function Nested(cls: () => new () => object, message: string): PropertyDecorator {
  const decorators = [IsObject({ message }), ValidateNested(), Type(cls)];
  return (target, key) => decorators.forEach((d) => d(target, key));
}

const ACCEPTS_UNKNOWN_FIELDS = Symbol('nephele:acceptsUnknownFields');

/** A body whose unknown fields (at any depth) are dropped rather than refused; see Note [Request DTOs]. */
export function AcceptsUnknownFields(): ClassDecorator {
  return (target) => Reflect.defineMetadata(ACCEPTS_UNKNOWN_FIELDS, true, target);
}

export function acceptsUnknownFields(cls: unknown): boolean {
  return typeof cls === 'function' && Reflect.getMetadata(ACCEPTS_UNKNOWN_FIELDS, cls) === true;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** At most `entries` names, each mapped to a string of at most `length` characters (undefined: fine). */
export function stringMapProblem(v: unknown, entries: number, length: number): string | undefined {
  if (!isObject(v)) return 'must map names to strings';
  const e = Object.entries(v);
  if (e.length > entries) return `at most ${entries} entries`;
  const bad = e.find(([k, x]) => typeof x !== 'string' || x.length > length || k.length > 256);
  return bad ? `${bad[0].slice(0, 64)}: must be a string of at most ${length} characters` : undefined;
}
