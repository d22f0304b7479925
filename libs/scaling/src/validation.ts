import { FieldError } from '@nephele/contracts';
import { isRfc3339 } from '@nephele/util';
import { isAlarmArgs, matcherProblem } from './alarm';
import { cronProblem, isAtArgs, isCronArgs } from './schedule';
import { LABEL_MATCH_OPS, POLICY_TYPES } from './scaling.types';

/** Default upper bound of `maxEntities` (ARCHITECTURE §6 / issue 7: configurable). */
export const DEFAULT_MAX_ENTITIES_LIMIT = 1000;

/** Longest group, policy and webhook name (Otter's limit). */
export const MAX_NAME_LENGTH = 255;

/** Bound of a policy's change, changePercent and desiredCapacity: far beyond any group, inside an int column. */
export const MAX_POLICY_ADJUSTMENT = 1_000_000;

/** Longest cooldown or timeout, in seconds (a year and a day). */
export const MAX_SECONDS = 366 * 24 * 3600;

/** The message of `errors` about exactly `field`, if any. */
export function problemAt(errors: FieldError[], field: string): string | undefined {
  return errors.find((e) => e.field === field)?.message;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a group's bounds and desired capacity as a REST body would carry them. Field names are
 * those of the scaler's API (`minEntities`, …), prefixed with `prefix`.
 */
export function validateGroupBounds(
  g: { minEntities?: unknown; maxEntities?: unknown; cooldownMs?: unknown },
  opts: { maxEntitiesLimit?: number; prefix?: string } = {},
): FieldError[] {
  const p = opts.prefix ?? '';
  const limit = opts.maxEntitiesLimit ?? DEFAULT_MAX_ENTITIES_LIMIT;
  const errors: FieldError[] = [];
  if (!isInt(g.minEntities) || g.minEntities < 0) {
    errors.push({ field: `${p}minEntities`, message: 'minEntities must be an integer ≥ 0' });
  }
  if (!isInt(g.maxEntities) || g.maxEntities < 0) {
    errors.push({ field: `${p}maxEntities`, message: 'maxEntities must be an integer ≥ 0' });
  } else if (g.maxEntities > limit) {
    errors.push({ field: `${p}maxEntities`, message: `maxEntities must be at most ${limit}` });
  } else if (isInt(g.minEntities) && g.maxEntities < g.minEntities) {
    errors.push({ field: `${p}maxEntities`, message: 'maxEntities must be ≥ minEntities' });
  }
  if (g.cooldownMs !== undefined && (!isInt(g.cooldownMs) || g.cooldownMs < 0)) {
    errors.push({ field: `${p}cooldownMs`, message: 'cooldown must be an integer number of ms ≥ 0' });
  }
  return errors;
}

/**
 * Checks a policy: its type, exactly one of change / changePercent / desiredCapacity, and the
 * arguments its type needs (schedule: `cron` with 5 fields and a known `timezone`, or `at` in
 * RFC 3339; alarm: `alarmCriteria` with labels and/or matchers; webhook: none).
 */
export function validatePolicy(input: unknown, prefix = ''): FieldError[] {
  const f = (name: string) => `${prefix}${name}`;
  if (!isObject(input)) return [{ field: prefix.replace(/\.$/, ''), message: 'a policy must be an object' }];
  const p = input;
  const errors: FieldError[] = [];
  if (typeof p.name !== 'string' || p.name.trim() === '' || p.name.length > MAX_NAME_LENGTH) {
    errors.push({
      field: f('name'),
      message: `name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
    });
  }
  if (p.cooldownMs !== undefined && (!isInt(p.cooldownMs) || p.cooldownMs < 0)) {
    errors.push({ field: f('cooldownMs'), message: 'cooldown must be an integer number of ms ≥ 0' });
  }
  if (!POLICY_TYPES.includes(p.type as never)) {
    errors.push({ field: f('type'), message: `type must be one of ${POLICY_TYPES.join(', ')}` });
  }
  errors.push(...adjustmentProblems(p, f));
  const args = p.args;
  switch (p.type) {
    case 'webhook':
      if (args !== undefined && !(isObject(args) && Object.keys(args).length === 0)) {
        errors.push({ field: f('args'), message: 'webhook policies take no args' });
      }
      break;
    case 'schedule':
      errors.push(...scheduleArgsProblems(args, f));
      break;
    case 'alarm':
      errors.push(...alarmArgsProblems(args, f));
      break;
    case 'target':
      errors.push(...targetArgsProblems(args, f));
      break;
    default:
      break;
  }
  return errors;
}

/** Exactly one of change / changePercent / desiredCapacity (none for a target policy), each in range. */
function adjustmentProblems(p: Record<string, unknown>, f: (name: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  const given = (['change', 'changePercent', 'desiredCapacity'] as const).filter((k) => p[k] !== undefined);
  if (p.type === 'target') {
    for (const k of given) {
      errors.push({ field: f(k), message: `target policies take no ${k}: the metric decides the capacity` });
    }
  } else if (given.length !== 1) {
    errors.push({
      field: f(given.length ? given[1]! : 'change'),
      message: 'exactly one of change, changePercent and desiredCapacity is required',
    });
  }
  const M = MAX_POLICY_ADJUSTMENT;
  if (p.change !== undefined && (!isInt(p.change) || p.change === 0 || Math.abs(p.change) > M)) {
    errors.push({ field: f('change'), message: `change must be a non-zero integer from -${M} to ${M}` });
  }
  if (
    p.changePercent !== undefined &&
    (typeof p.changePercent !== 'number' ||
      !Number.isFinite(p.changePercent) ||
      p.changePercent === 0 ||
      Math.abs(p.changePercent) > M)
  ) {
    errors.push({
      field: f('changePercent'),
      message: `changePercent must be a non-zero number from -${M} to ${M}`,
    });
  }
  if (
    p.desiredCapacity !== undefined &&
    (!isInt(p.desiredCapacity) || p.desiredCapacity < 0 || p.desiredCapacity > M)
  ) {
    errors.push({
      field: f('desiredCapacity'),
      message: `desiredCapacity must be an integer from 0 to ${M}`,
    });
  }
  return errors;
}

/** A schedule's `cron` (5 fields, known `timezone`) or `at` (RFC 3339), not both. */
export function scheduleArgsProblems(args: unknown, f: (name: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  if (isCronArgs(args)) {
    if (isAtArgs(args)) errors.push({ field: f('args'), message: 'give either cron or at, not both' });
    if (args.timezone !== undefined && typeof args.timezone !== 'string') {
      errors.push({ field: f('args.timezone'), message: 'timezone must be an IANA time zone name' });
    } else {
      const problem = cronProblem(args.cron, args.timezone);
      if (problem) {
        errors.push({
          field: f(problem.startsWith('unknown time zone') ? 'args.timezone' : 'args.cron'),
          message: problem,
        });
      }
    }
  } else if (isAtArgs(args)) {
    if (!isRfc3339(args.at)) {
      errors.push({ field: f('args.at'), message: 'at must be an RFC 3339 time with an offset' });
    }
  } else {
    errors.push({ field: f('args'), message: 'schedule policies need args.cron or args.at' });
  }
  return errors;
}

/** An alarm's criteria: labels and/or matchers, at least one. */
export function alarmArgsProblems(args: unknown, f: (name: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isAlarmArgs(args)) {
    return [{ field: f('args.alarmCriteria'), message: 'alarm policies need args.alarmCriteria' }];
  }
  const c = args.alarmCriteria as unknown as Record<string, unknown>;
  const labels = c.labels;
  const matchers = c.matchers;
  if (labels !== undefined) {
    if (!isObject(labels) || Object.values(labels).some((v) => typeof v !== 'string')) {
      errors.push({
        field: f('args.alarmCriteria.labels'),
        message: 'labels must map label names to strings',
      });
    }
  }
  if (matchers !== undefined) {
    if (!Array.isArray(matchers)) {
      errors.push({ field: f('args.alarmCriteria.matchers'), message: 'matchers must be an array' });
    } else {
      matchers.forEach((m: unknown, i) => {
        const at = f(`args.alarmCriteria.matchers[${i}]`);
        if (
          !isObject(m) ||
          typeof m.name !== 'string' ||
          typeof m.value !== 'string' ||
          !LABEL_MATCH_OPS.includes(m.op as never)
        ) {
          errors.push({
            field: at,
            message: `a matcher is {name, op: ${LABEL_MATCH_OPS.join('|')}, value}`,
          });
          return;
        }
        const problem = matcherProblem(m as never);
        if (problem) errors.push({ field: `${at}.value`, message: problem });
      });
    }
  }
  const labelCount = isObject(labels) ? Object.keys(labels).length : 0;
  const matcherCount = Array.isArray(matchers) ? matchers.length : 0;
  if (labelCount + matcherCount === 0) {
    errors.push({
      field: f('args.alarmCriteria'),
      message: 'alarmCriteria needs at least one label or matcher',
    });
  }

  return errors;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/;
const MAX_WINDOW_S = 24 * 3600;

function seconds(v: unknown, field: string, required: boolean, errors: FieldError[]): void {
  if (v === undefined && !required) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_WINDOW_S) {
    errors.push({ field, message: `must be a number of seconds from 0 to ${MAX_WINDOW_S}` });
  }
}

/** Checks a target policy's args (Note [Target tracking]). */
export function targetArgsProblems(args: unknown, f: (name: string) => string): FieldError[] {
  const errors: FieldError[] = [];
  if (!isObject(args)) {
    return [
      {
        field: f('args'),
        message: 'target policies need args {metric, target, scaleOutCooldown, scaleInCooldown}',
      },
    ];
  }
  const allowed = [
    'metric',
    'target',
    'scaleOutCooldown',
    'scaleInCooldown',
    'disableScaleIn',
    'tolerance',
    'stabilizationWindow',
  ];
  for (const k of Object.keys(args)) {
    if (!allowed.includes(k)) errors.push({ field: f(`args.${k}`), message: `unknown field ${k}` });
  }
  if (typeof args.metric !== 'string' || !METRIC_NAME.test(args.metric)) {
    errors.push({
      field: f('args.metric'),
      message: 'must be a metric name (letters, digits, _:.-; at most 200)',
    });
  }
  if (
    typeof args.target !== 'number' ||
    !Number.isFinite(args.target) ||
    args.target <= 0 ||
    args.target > 1e12
  ) {
    errors.push({ field: f('args.target'), message: 'must be a number > 0' });
  }
  seconds(args.scaleOutCooldown, f('args.scaleOutCooldown'), true, errors);
  seconds(args.scaleInCooldown, f('args.scaleInCooldown'), true, errors);
  seconds(args.stabilizationWindow, f('args.stabilizationWindow'), false, errors);
  if (args.disableScaleIn !== undefined && typeof args.disableScaleIn !== 'boolean') {
    errors.push({ field: f('args.disableScaleIn'), message: 'must be true or false' });
  }
  if (
    args.tolerance !== undefined &&
    (typeof args.tolerance !== 'number' ||
      !Number.isFinite(args.tolerance) ||
      args.tolerance < 0 ||
      args.tolerance >= 1)
  ) {
    errors.push({
      field: f('args.tolerance'),
      message: 'must be a number from 0 to 1 (exclusive), e.g. 0.1',
    });
  }
  return errors;
}
