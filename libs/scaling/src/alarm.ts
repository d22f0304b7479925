import { AlarmArgs, AlarmCriteria, LabelMatcher, Policy } from './scaling.types';

/** Longest regular expression a matcher may carry (user input runs against every alarm). */
export const MAX_MATCHER_REGEX = 200;

export function isAlarmArgs(args: unknown): args is AlarmArgs {
  return (
    typeof args === 'object' &&
    args !== null &&
    typeof (args as AlarmArgs).alarmCriteria === 'object' &&
    (args as AlarmArgs).alarmCriteria !== null
  );
}

/** Compiles a matcher's regular expression anchored at both ends (Prometheus semantics). */
export function anchoredRegex(value: string): RegExp {
  return new RegExp(`^(?:${value})$`);
}

/** The problem with a matcher's pattern, or undefined. */
export function matcherProblem(m: LabelMatcher): string | undefined {
  if (m.op !== '=~' && m.op !== '!~') return undefined;
  if (m.value.length > MAX_MATCHER_REGEX) return `regex longer than ${MAX_MATCHER_REGEX} characters`;
  try {
    anchoredRegex(m.value);
    return undefined;
  } catch (e) {
    return `invalid regex: ${(e as Error).message}`;
  }
}

function matcherHolds(m: LabelMatcher, labels: Readonly<Record<string, string>>): boolean {
  // An absent label reads as the empty string, as in Prometheus and Alertmanager.
  const v = Object.prototype.hasOwnProperty.call(labels, m.name) ? labels[m.name]! : '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
    case '!~': {
      if (matcherProblem(m)) return false;
      const hit = anchoredRegex(m.value).test(v);
      return m.op === '=~' ? hit : !hit;
    }
  }
}

/** Whether an alarm's labels satisfy criteria: every label equal, every matcher true. */
export function criteriaMatch(criteria: AlarmCriteria, labels: Readonly<Record<string, string>>): boolean {
  const equal = Object.entries(criteria.labels ?? {});
  const matchers = criteria.matchers ?? [];
  if (!equal.length && !matchers.length) return false;
  for (const [k, want] of equal) {
    if (!Object.prototype.hasOwnProperty.call(labels, k) || labels[k] !== want) return false;
  }
  return matchers.every((m) => matcherHolds(m, labels));
}

/**
 * Whether an alarm with `labels` triggers `policy`: an alarm policy whose criteria all hold.
 * Criteria with nothing in them match nothing (a policy must not fire on every alarm by accident).
 */
export function matchAlarm(policy: Policy, labels: Readonly<Record<string, string>>): boolean {
  if (policy.type !== 'alarm' || !isAlarmArgs(policy.args)) return false;
  return criteriaMatch(policy.args.alarmCriteria, labels);
}
