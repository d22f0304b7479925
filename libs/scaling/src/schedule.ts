import { CronExpressionParser } from 'cron-parser';
import { isRfc3339 } from '@nephele/util';
import { AtArgs, CronArgs, Policy } from './scaling.types';

// Note [Schedule firings]
// A firing is identified by its scheduled time, never by when somebody noticed it: the cron
// expression (in its time zone) or the `at` time fixes every firing to the millisecond. The scaler
// records (policy id, firing time) under a unique key before it executes, so with several replicas
// each firing runs exactly once: the replica whose insert wins executes, the others see a conflict.
// A firing missed while no replica ran (downtime) is executed once on recovery when it is at most
// `graceMs` old; if several were missed, only the latest one runs (an autoscale policy applied
// twice in a row for the same reason would be wrong), and older ones are reported as missed.

/** Upper bound on firings listed by one call, so a `* * * * *` over a year cannot run away. */
export const MAX_FIRINGS = 10_000;

export function isCronArgs(args: unknown): args is CronArgs {
  return typeof args === 'object' && args !== null && typeof (args as CronArgs).cron === 'string';
}

export function isAtArgs(args: unknown): args is AtArgs {
  return typeof args === 'object' && args !== null && typeof (args as AtArgs).at === 'string';
}

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a cron expression: exactly five fields (minute hour day-of-month month day-of-week) that
 * cron-parser accepts. Returns the problem, or undefined when it is fine.
 */
export function cronProblem(cron: string, timezone?: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === '') {
    return 'cron must have exactly 5 fields: minute hour day-of-month month day-of-week';
  }
  if (timezone !== undefined && !isValidTimeZone(timezone)) return `unknown time zone ${timezone}`;
  try {
    // A fixed reference date keeps the check itself pure.
    CronExpressionParser.parse(cron, { currentDate: new Date(0), tz: timezone ?? 'UTC' });
    return undefined;
  } catch (e) {
    return `invalid cron expression: ${(e as Error).message}`;
  }
}

function cronIterator(args: CronArgs, from: Date) {
  return CronExpressionParser.parse(args.cron, { currentDate: from, tz: args.timezone ?? 'UTC' });
}

/**
 * The firings of a schedule policy in the half-open interval (`from`, `to`], in order: every cron
 * firing, or the `at` time when it falls inside. Empty for other policies and invalid arguments;
 * at most `limit` firings (default MAX_FIRINGS).
 */
export function nextFirings(policy: Policy, from: Date, to: Date, limit = MAX_FIRINGS): Date[] {
  if (policy.type !== 'schedule' || to.getTime() <= from.getTime()) return [];
  const args = policy.args;
  if (isAtArgs(args)) {
    if (!isRfc3339(args.at)) return [];
    const at = new Date(args.at);
    return at > from && at <= to ? [at] : [];
  }
  if (!isCronArgs(args) || cronProblem(args.cron, args.timezone)) return [];
  const out: Date[] = [];
  try {
    const it = cronIterator(args, from);
    while (out.length < limit) {
      const next = it.next().toDate();
      if (next > to) break;
      out.push(next);
    }
  } catch {
    // cron-parser gives up on expressions that match no date (31 February); nothing fires.
  }
  return out;
}

/** The latest firing at or before `at` (for cron: cron-parser's prev from just after `at`). */
export function latestFiring(policy: Policy, at: Date): Date | undefined {
  if (policy.type !== 'schedule') return undefined;
  const args = policy.args;
  if (isAtArgs(args)) {
    if (!isRfc3339(args.at)) return undefined;
    const t = new Date(args.at);
    return t <= at ? t : undefined;
  }
  if (!isCronArgs(args) || cronProblem(args.cron, args.timezone)) return undefined;
  try {
    return cronIterator(args, new Date(at.getTime() + 1))
      .prev()
      .toDate();
  } catch {
    return undefined;
  }
}

/** The first firing strictly after `after`, if any. */
export function firstFiringAfter(policy: Policy, after: Date): Date | undefined {
  if (policy.type !== 'schedule') return undefined;
  const args = policy.args;
  if (isAtArgs(args)) {
    if (!isRfc3339(args.at)) return undefined;
    const t = new Date(args.at);
    return t > after ? t : undefined;
  }
  if (!isCronArgs(args) || cronProblem(args.cron, args.timezone)) return undefined;
  try {
    return cronIterator(args, after).next().toDate();
  } catch {
    return undefined;
  }
}

export interface ScheduleDecision {
  /** The firing to execute now (its scheduled time is its identity; see Note [Schedule firings]). */
  readonly due?: Date;
  /** The latest firing that was not executed and is now older than the grace window. */
  readonly missed?: Date;
  /** The next firing after `now`: when to look again. */
  readonly next?: Date;
}

/**
 * Which firing of a schedule policy is due at `now`. `after` is the last firing recorded as run
 * (or the policy's creation time when it never ran): only firings strictly after it count. The
 * latest such firing at or before `now` is due when it is at most `graceMs` old; otherwise it is
 * reported as missed. See Note [Schedule firings].
 */
export function dueFiring(policy: Policy, after: Date, now: Date, graceMs: number): ScheduleDecision {
  const next = firstFiringAfter(policy, now);
  const latest = latestFiring(policy, now);
  if (!latest || latest <= after) return { next };
  if (now.getTime() - latest.getTime() <= graceMs) return { due: latest, next };
  return { missed: latest, next };
}
