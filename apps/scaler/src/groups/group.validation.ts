import { FieldError } from '@nephele/contracts';
import {
  isAtArgs,
  MAX_NAME_LENGTH,
  TERMINATION_POLICIES,
  TerminationPolicy,
  validateGroupBounds,
  validatePolicy,
} from '@nephele/scaling';
import { ProblemException } from '@nephele/service-kit';
import {
  GroupConfigInput,
  LaunchConfigView,
  MetricSource,
  PolicyInput,
  TerminationWebhook,
} from '../state/group.types';

// Every body of the groups API is checked here, field by field, so that a bad request is a 400
// naming each bad field (the shapes are nested and polymorphic, which decorators express badly).

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const MAX_SECONDS = 366 * 24 * 3600;
const NAME = /^[A-Za-z0-9_.:-]+$/;

function unknownFields(o: Record<string, unknown>, allowed: string[], p: string, errors: FieldError[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) errors.push({ field: `${p}${k}`, message: `unknown field ${k}` });
  }
}

function stringMap(v: unknown, field: string, errors: FieldError[]): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) {
    errors.push({ field, message: 'must map names to strings' });
    return {};
  }
  const entries = Object.entries(v);
  if (entries.length > 64) errors.push({ field, message: 'at most 64 entries' });
  for (const [k, val] of entries) {
    if (typeof val !== 'string' || val.length > 1024 || k.length > 256) {
      errors.push({ field: `${field}.${k}`, message: 'must be a string of at most 1024 characters' });
    }
  }
  return v as Record<string, string>;
}

function seconds(v: unknown, field: string, def: number, min: number, errors: FieldError[]): number {
  if (v === undefined) return def;
  if (!isInt(v) || v < min || v > MAX_SECONDS) {
    errors.push({ field, message: `must be an integer number of seconds from ${min} to ${MAX_SECONDS}` });
    return def;
  }
  return v;
}

/** A duration in seconds that may have a fraction (Otter's policy cooldown is a JSON number). */
function fractionalSeconds(v: unknown, field: string, errors: FieldError[]): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_SECONDS) {
    errors.push({ field, message: `must be a number of seconds from 0 to ${MAX_SECONDS}` });
    return 0;
  }
  return v;
}

/** Whether `v` holds a C0 control character or DEL, other than those in `allowed`. */
function hasControlCharacter(v: string, allowed: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !allowed.includes(v[i]!)) return true;
  }
  return false;
}

function str(
  v: unknown,
  field: string,
  errors: FieldError[],
  opts: { optional?: boolean; max?: number; multiline?: boolean } = {},
): string | undefined {
  if (v === undefined && opts.optional) return undefined;
  const max = opts.max ?? 200;
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) {
    errors.push({ field, message: `must be a non-empty string of at most ${max} characters` });
    return undefined;
  }
  // Names and references are one line of text; user data may have lines and tabs. NUL never.
  if (hasControlCharacter(v, opts.multiline ? '\t\n\r' : '')) {
    errors.push({ field, message: 'must not contain control characters' });
    return undefined;
  }
  return v;
}

/** Checks a webhook target URL's shape (the address is checked at delivery, see ssrf.util.ts). */
export function urlProblem(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username || u.password) return 'must not carry credentials';
  if (raw.length > 2048) return 'at most 2048 characters';
  return undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/;

/** A group's Prometheus sources (the address is checked at every poll, like a webhook's). */
function metricSources(v: unknown, field: string, errors: FieldError[]): MetricSource[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 16) {
    errors.push({ field, message: 'must be an array of at most 16 {metric, prometheusQueryUrl, interval?}' });
    return [];
  }
  const out: MetricSource[] = [];
  v.forEach((s: unknown, i) => {
    const sp = `${field}[${i}]`;
    if (!isObject(s)) {
      errors.push({ field: sp, message: 'must be {metric, prometheusQueryUrl, interval?}' });
      return;
    }
    unknownFields(s, ['metric', 'prometheusQueryUrl', 'interval'], `${sp}.`, errors);
    if (typeof s.metric !== 'string' || !METRIC_NAME.test(s.metric)) {
      errors.push({ field: `${sp}.metric`, message: 'must be a metric name (letters, digits, _:.-)' });
    }
    const url = str(s.prometheusQueryUrl, `${sp}.prometheusQueryUrl`, errors, { max: 2048 });
    const problem = url !== undefined ? urlProblem(url) : undefined;
    if (problem) errors.push({ field: `${sp}.prometheusQueryUrl`, message: problem });
    const interval = s.interval === undefined ? 15 : s.interval;
    if (!isInt(interval) || interval < 1 || interval > 3600) {
      errors.push({
        field: `${sp}.interval`,
        message: 'must be an integer number of seconds from 1 to 3600',
      });
    }
    out.push({ metric: s.metric as string, prometheusQueryUrl: url ?? '', interval: interval as number });
  });
  if (new Set(out.map((s) => s.metric)).size !== out.length) {
    errors.push({ field, message: 'each metric may have one source' });
  }
  return out;
}

/** A group's serverReadyWebhook: `{url, secret?}`, null to remove it, undefined to leave it out. */
function serverReadyWebhook(
  h: unknown,
  field: string,
  errors: FieldError[],
): GroupConfigInput['serverReadyWebhook'] {
  if (h === null) return null;
  if (h === undefined) return undefined;
  const hp = `${field}.`;
  if (!isObject(h)) {
    errors.push({ field, message: 'must be {url, secret}' });
    return undefined;
  }
  unknownFields(h, ['url', 'secret'], hp, errors);
  const url = str(h.url, `${hp}url`, errors, { max: 2048 });
  const problem = url !== undefined ? urlProblem(url) : undefined;
  if (problem) errors.push({ field: `${hp}url`, message: problem });
  if (
    h.secret !== undefined &&
    (typeof h.secret !== 'string' || h.secret.length < 16 || h.secret.length > 256)
  ) {
    errors.push({ field: `${hp}secret`, message: 'must be a string of 16 to 256 characters' });
  }
  return { url: url ?? '', secret: h.secret as string | undefined };
}

/** A group's terminationWebhook: `{url, timeout?}` (null when left out or null). */
function terminationWebhookOf(tw: unknown, tp: string, errors: FieldError[]): TerminationWebhook | null {
  if (tw === undefined || tw === null) return null;
  if (!isObject(tw)) {
    errors.push({ field: tp, message: 'must be {url, timeout?}' });
    return null;
  }
  unknownFields(tw, ['url', 'timeout'], `${tp}.`, errors);
  const u = str(tw.url, `${tp}.url`, errors, { max: 2048 });
  const problem = u !== undefined ? urlProblem(u) : undefined;
  if (problem) errors.push({ field: `${tp}.url`, message: problem });
  const timeout = tw.timeout ?? 5;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > 60) {
    errors.push({
      field: `${tp}.timeout`,
      message: 'must be a number of seconds from 0 (exclusive) to 60',
    });
  }
  return { url: u ?? '', timeout: timeout as number };
}

export function validateGroupConfig(
  input: unknown,
  p: string,
  limit: number,
  errors: FieldError[],
): GroupConfigInput | undefined {
  if (!isObject(input)) {
    errors.push({ field: p.replace(/\.$/, '') || 'body', message: 'must be an object' });
    return undefined;
  }
  unknownFields(
    input,
    [
      'name',
      'minEntities',
      'maxEntities',
      'cooldown',
      'metadata',
      'serverReadyWebhook',
      'metricSources',
      'terminationPolicy',
      'terminationWebhook',
    ],
    p,
    errors,
  );
  const name = str(input.name, `${p}name`, errors, { max: MAX_NAME_LENGTH });
  // Otter: maxEntities may be left out or null, meaning the largest group allowed.
  const maxEntities =
    input.maxEntities === undefined || input.maxEntities === null ? limit : input.maxEntities;
  errors.push(
    ...validateGroupBounds(
      { minEntities: input.minEntities, maxEntities },
      { maxEntitiesLimit: limit, prefix: p },
    ),
  );
  const cooldown = seconds(input.cooldown, `${p}cooldown`, 0, 0, errors);
  const metadata = stringMap(input.metadata, `${p}metadata`, errors);
  const hook = serverReadyWebhook(input.serverReadyWebhook, `${p}serverReadyWebhook`, errors);
  const terminationPolicy = (input.terminationPolicy ?? 'oldest') as TerminationPolicy;
  if (!TERMINATION_POLICIES.includes(terminationPolicy)) {
    errors.push({
      field: `${p}terminationPolicy`,
      message: `must be one of ${TERMINATION_POLICIES.join(', ')}`,
    });
  }
  const tw = input.terminationWebhook;
  const terminationWebhook = terminationWebhookOf(tw, `${p}terminationWebhook`, errors);
  if (terminationPolicy === 'custom' && !terminationWebhook && !(tw !== undefined && tw !== null)) {
    errors.push({
      field: `${p}terminationWebhook`,
      message: 'terminationPolicy custom needs a terminationWebhook',
    });
  }
  return {
    terminationPolicy,
    terminationWebhook,
    metricSources: metricSources(input.metricSources, `${p}metricSources`, errors),
    name: name ?? '',
    minEntities: input.minEntities as number,
    maxEntities: maxEntities as number,
    cooldown,
    metadata,
    serverReadyWebhook: hook,
  };
}

/** A launch config's load balancers: `[{id, port, backend?}]`, each id one this scaler knows. */
function loadBalancers(
  v: unknown,
  field: string,
  knownLbs: ReadonlySet<string>,
  errors: FieldError[],
): LaunchConfigView['loadBalancers'] {
  const lbs: LaunchConfigView['loadBalancers'] = [];
  if (v === undefined) return lbs;
  if (!Array.isArray(v) || v.length > 16) {
    errors.push({ field, message: 'must be an array of at most 16 load balancers' });
    return lbs;
  }
  v.forEach((lb: unknown, i) => {
    const lp = `${field}[${i}].`;
    if (!isObject(lb)) {
      errors.push({ field: `${field}[${i}]`, message: 'must be {id, port, backend?}' });
      return;
    }
    unknownFields(lb, ['id', 'port', 'backend'], lp, errors);
    if (typeof lb.id !== 'string' || !knownLbs.has(lb.id)) {
      errors.push({
        field: `${lp}id`,
        message: `unknown load balancer${knownLbs.size ? `; configured: ${[...knownLbs].join(', ')}` : ' (none is configured)'}`,
      });
    }
    if (!isInt(lb.port) || lb.port < 1 || lb.port > 65535) {
      errors.push({ field: `${lp}port`, message: 'must be a port number from 1 to 65535' });
    }
    if (lb.backend !== undefined && (typeof lb.backend !== 'string' || !NAME.test(lb.backend))) {
      errors.push({ field: `${lp}backend`, message: 'must be a backend name (letters, digits, _.:-)' });
    }
    lbs.push({
      id: lb.id as string,
      port: lb.port as number,
      ...(lb.backend !== undefined ? { backend: lb.backend as string } : {}),
    });
  });
  return lbs;
}

export function validateLaunchConfig(
  input: unknown,
  p: string,
  knownLbs: ReadonlySet<string>,
  errors: FieldError[],
): LaunchConfigView | undefined {
  if (!isObject(input)) {
    errors.push({ field: p.replace(/\.$/, '') || 'body', message: 'must be an object' });
    return undefined;
  }
  unknownFields(
    input,
    [
      'type',
      'image',
      'hardwareProfile',
      'pool',
      'userData',
      'metadata',
      'loadBalancers',
      'drainingTimeout',
      'buildTimeout',
    ],
    p,
    errors,
  );
  if (input.type !== undefined && input.type !== 'launch_server') {
    errors.push({ field: `${p}type`, message: 'type must be launch_server' });
  }
  const image = str(input.image, `${p}image`, errors);
  const hardwareProfile = str(input.hardwareProfile, `${p}hardwareProfile`, errors);
  const pool = str(input.pool, `${p}pool`, errors, { optional: true });
  const userData = str(input.userData, `${p}userData`, errors, {
    optional: true,
    max: 65536,
    multiline: true,
  });
  const metadata =
    input.metadata === undefined ? undefined : stringMap(input.metadata, `${p}metadata`, errors);
  const lbs = loadBalancers(input.loadBalancers, `${p}loadBalancers`, knownLbs, errors);
  return {
    type: 'launch_server',
    image: image ?? '',
    hardwareProfile: hardwareProfile ?? '',
    ...(pool !== undefined ? { pool } : {}),
    ...(userData !== undefined ? { userData } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
    loadBalancers: lbs,
    drainingTimeout: seconds(input.drainingTimeout, `${p}drainingTimeout`, 0, 0, errors),
    buildTimeout: seconds(input.buildTimeout, `${p}buildTimeout`, 3600, 1, errors),
  };
}

export function validatePolicyInput(
  input: unknown,
  p: string,
  now: Date,
  errors: FieldError[],
): PolicyInput | undefined {
  if (!isObject(input)) {
    errors.push({ field: p.replace(/\.$/, '') || 'body', message: 'a policy must be an object' });
    return undefined;
  }
  unknownFields(
    input,
    ['name', 'cooldown', 'type', 'change', 'changePercent', 'desiredCapacity', 'args'],
    p,
    errors,
  );
  const cooldown = fractionalSeconds(input.cooldown, `${p}cooldown`, errors);
  const { cooldown: _c, ...rest } = input;
  errors.push(...validatePolicy({ ...rest, cooldownMs: Math.round(cooldown * 1000) }, p));
  if (
    input.type === 'schedule' &&
    isAtArgs(input.args) &&
    new Date(input.args.at).getTime() <= now.getTime()
  ) {
    errors.push({ field: `${p}args.at`, message: 'at must be in the future' });
  }
  return {
    name: input.name as string,
    cooldown,
    type: input.type as PolicyInput['type'],
    change: input.change as number | undefined,
    changePercent: input.changePercent as number | undefined,
    desiredCapacity: input.desiredCapacity as number | undefined,
    args: input.type === 'webhook' ? undefined : (input.args as PolicyInput['args']),
  };
}

export function failIfErrors(errors: FieldError[]): void {
  if (errors.length) throw ProblemException.badRequest('validation failed', errors);
}

export { isObject };
