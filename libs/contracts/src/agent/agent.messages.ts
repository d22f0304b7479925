import { Type } from 'class-transformer';
import {
  Equals,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  isISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { FieldError, Validated } from '../envelope';
import { validateData } from '../registry';
import {
  AGENT_ACTIONS,
  AgentAction,
  PARAMETER_NAME,
  RESOURCE_NAME,
  SERVICE_CLASSES,
  SERVICE_FAILURE_CAUSES,
  SERVICE_NAME,
  SERVICE_STATES,
  ServiceClass,
  ServiceFailureCause,
  ServiceState,
} from './agent.constants';

const MAX_PARAMETERS = 100;
const MAX_PARAMETER_VALUE = 8192;

/** A record of string values whose keys match `keyPattern` (parameters, the services map). */
function IsStringRecord(
  keyPattern: RegExp,
  values: readonly string[] | undefined,
  max: number,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (v: unknown) => {
          if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
          const entries = Object.entries(v as Record<string, unknown>);
          if (entries.length > max) return false;
          return entries.every(
            ([k, val]) =>
              keyPattern.test(k) &&
              typeof val === 'string' &&
              val.length <= MAX_PARAMETER_VALUE &&
              (!values || values.includes(val)),
          );
        },
        defaultMessage: (a) =>
          `${a?.property} must be an object of at most ${max} entries whose keys match ${keyPattern}` +
          (values ? ` and whose values are one of ${values.join(', ')}` : ' and whose values are strings'),
      },
    },
    options,
  );
}

/** Connect to a TCP port; the service is healthy when the connection opens within the timeout. */
export class TcpCheckSpec {
  /** Default 127.0.0.1. */
  @IsOptional() @IsString() @MaxLength(255) host?: string;
  @IsInt() @Min(1) @Max(65535) port!: number;
}

/** GET a URL; healthy on a status in [200, 400) or the expected one. */
export class HttpCheckSpec {
  @IsString() @Matches(/^https?:\/\/\S+$/) @MaxLength(2000) url!: string;
  @IsOptional() @IsInt() @Min(100) @Max(599) expectStatus?: number;
}

/** How and how often the agent checks a service. */
export class MonitorSpec {
  /** Period of the recurring monitor; 0 = no recurring monitor. */
  @IsInt() @Min(0) @Max(86_400_000) intervalMs!: number;
  /** Limit of one monitor action (also of OCF/LSB start and stop, unless given apart). */
  @IsInt() @Min(1) @Max(3_600_000) timeoutMs!: number;
  /** `process` class: also require this TCP port to accept connections. */
  @IsOptional() @ValidateNested() @Type(() => TcpCheckSpec) tcp?: TcpCheckSpec;
  /** `process` class: also require this URL to answer. */
  @IsOptional() @ValidateNested() @Type(() => HttpCheckSpec) http?: HttpCheckSpec;
}

/**
 * One service as the agent runs it. Every command carries the whole spec, so an agent that
 * restarted can still stop or monitor a service it has not seen before.
 */
export class ServiceSpec {
  @IsString() @Matches(SERVICE_NAME) name!: string;
  @IsIn(SERVICE_CLASSES) class!: ServiceClass;
  /** `process`: the command line, run by `/bin/sh -c` unless `args` is given. */
  @ValidateIf((o: ServiceSpec) => o.class === 'process' || o.command !== undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(8192)
  command?: string;
  /** `process`: run `command` as an executable with these arguments (no shell). */
  @IsOptional() @IsArray() @IsString({ each: true }) @MaxLength(8192, { each: true }) args?: string[];
  /** `ocf`: the provider directory under resource.d (e.g. `heartbeat`). */
  @ValidateIf((o: ServiceSpec) => o.class === 'ocf' || o.provider !== undefined)
  @IsString()
  @Matches(RESOURCE_NAME)
  provider?: string;
  /** `ocf`: the agent; `lsb`: the init script; `systemd`: the unit (default: `name`). */
  @ValidateIf((o: ServiceSpec) => o.class === 'ocf' || o.class === 'lsb' || o.type !== undefined)
  @IsString()
  @Matches(RESOURCE_NAME)
  type?: string;
  /** `ocf`: `OCF_RESKEY_<name>`; `process`: extra environment of the service. */
  @IsOptional()
  @IsStringRecord(PARAMETER_NAME, undefined, MAX_PARAMETERS)
  parameters?: Record<string, string>;
  @ValidateNested() @Type(() => MonitorSpec) monitor!: MonitorSpec;
  /** Limit of start (default monitor.timeoutMs); `process`: how long checks may take to pass. */
  @IsOptional() @IsInt() @Min(1) @Max(3_600_000) startTimeoutMs?: number;
  /** Limit of stop; `process`: SIGTERM to the group, then SIGKILL after this (default 10 s). */
  @IsOptional() @IsInt() @Min(1) @Max(3_600_000) stopTimeoutMs?: number;
}

/** DPE → agent, on `nephele.agent.<assemblyId>`. */
export class AgentCommand {
  @Equals('command') kind!: 'command';
  @IsIn(AGENT_ACTIONS) action!: AgentAction;
  /** Idempotency key: a repeated id gets the first result again. */
  @IsString() @MinLength(1) @MaxLength(200) requestId!: string;
  /** The sending DPE's epoch; lower than the highest seen → refused (fencing). */
  @IsInt() @Min(0) epoch!: number;
  @ValidateNested() @Type(() => ServiceSpec) service!: ServiceSpec;
  /** When the DPE issued it: an agent refuses commands much older than its remembered ids cover. */
  @IsOptional() @IsISO8601() issuedAt?: string;
  /** HMAC of the body under the assembly credential (see Note [Agent identity]). */
  @IsOptional() @IsString() @MaxLength(100) sig?: string;
}

/** Agent → DPE, every interval; transient. */
export class AgentHeartbeat {
  @Equals('heartbeat') kind!: 'heartbeat';
  @IsString() @MaxLength(200) assemblyId!: string;
  @IsString() @MaxLength(200) deployableId!: string;
  /** Increases by one per heartbeat of this agent process (restarts at 0 when it restarts). */
  @IsInt() @Min(0) seq!: number;
  @IsISO8601() sentAt!: string;
  /** State of every service the agent knows. */
  @IsStringRecord(SERVICE_NAME, SERVICE_STATES, 10_000) services!: Record<string, ServiceState>;
  /** The highest DPE epoch the agent has accepted (0 before any command). */
  @IsOptional() @IsInt() @Min(0) epoch?: number;
  /** HMAC of the body under the assembly credential (see Note [Agent identity]). */
  @IsOptional() @IsString() @MaxLength(100) sig?: string;
}

/** Agent → DPE: the result of a command, or a change seen by a monitor (sent at once). */
export class AgentServiceStatus {
  @Equals('service-status') kind!: 'service-status';
  @IsString() @MaxLength(200) assemblyId!: string;
  @IsString() @MaxLength(200) deployableId!: string;
  @IsString() @Matches(SERVICE_NAME) service!: string;
  @IsIn(SERVICE_STATES) state!: ServiceState;
  @IsString() @MaxLength(2000) reason!: string;
  /** The exit code of the action or of the service process, when there is one. */
  @IsOptional() @IsInt() exitCode?: number;
  /** The command's epoch (absent on monitor reports). */
  @IsOptional() @IsInt() @Min(0) epoch?: number;
  /** The command's id (absent on monitor reports). */
  @IsOptional() @IsString() @MaxLength(200) requestId?: string;
  /** The action that produced this status (`monitor` for recurring monitors). */
  @IsOptional() @IsIn(AGENT_ACTIONS) action?: AgentAction;
  /** Why a failure happened, when the agent can tell (see SERVICE_FAILURE_CAUSES). */
  @IsOptional() @IsIn(SERVICE_FAILURE_CAUSES) cause?: ServiceFailureCause;
  @IsISO8601() at!: string;
  /** HMAC of the body under the assembly credential (see Note [Agent identity]). */
  @IsOptional() @IsString() @MaxLength(100) sig?: string;
}

/** Agent → DPE: a command that was not carried out (stale epoch, invalid command). */
export class AgentCommandRefused {
  @Equals('command-refused') kind!: 'command-refused';
  @IsString() @MaxLength(200) assemblyId!: string;
  @IsString() @MaxLength(200) deployableId!: string;
  @IsOptional() @IsString() @MaxLength(200) requestId?: string;
  @IsOptional() @IsInt() epoch?: number;
  /** The highest epoch the agent has seen. */
  @IsInt() @Min(0) highestEpoch!: number;
  @IsString() @MaxLength(2000) reason!: string;
  @IsOptional() @IsArray() errors?: FieldError[];
  /** HMAC of the body under the assembly credential (see Note [Agent identity]). */
  @IsOptional() @IsString() @MaxLength(100) sig?: string;
}

export type AgentEvent = AgentHeartbeat | AgentServiceStatus | AgentCommandRefused;

const EVENT_CLASSES = {
  heartbeat: AgentHeartbeat,
  'service-status': AgentServiceStatus,
  'command-refused': AgentCommandRefused,
} as const;

function kindOf(body: unknown): unknown {
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>).kind
    : undefined;
}

// Note [Heartbeat fast path]
// A DPE host receives one heartbeat per assembly and interval (25,000 a second on a full host), and
// class-validator's path (plainToInstance, then every decorator through its metadata) was ≈ 8.5 %
// of the host's samples. `fastHeartbeat` checks the common shape by hand, with the decorators' own
// rules: it only says "valid" of a body the full path also accepts (unit-tested for equivalence),
// and anything else (a wrong or missing field, a null optional, a long string, an unknown key,
// another prototype) goes down the full path, which gives the refusal with its reasons as before.
const HEARTBEAT_KEYS = new Set([
  'kind',
  'assemblyId',
  'deployableId',
  'seq',
  'sentAt',
  'services',
  'epoch',
  'sig',
]);
const HEARTBEAT_MAX_SERVICES = 10_000;

const isShortString = (v: unknown, max: number): boolean => typeof v === 'string' && v.length <= max;
const isNonNegativeInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The heartbeat itself when it certainly passes AgentHeartbeat's validation; undefined: not sure. */
export function fastHeartbeat(body: unknown): AgentHeartbeat | undefined {
  if (body === null || typeof body !== 'object' || Object.getPrototypeOf(body) !== Object.prototype)
    return undefined;
  const b = body as Record<string, unknown>;
  for (const k in b) if (!HEARTBEAT_KEYS.has(k)) return undefined;
  if (
    b.kind !== 'heartbeat' ||
    !isShortString(b.assemblyId, 200) ||
    !isShortString(b.deployableId, 200) ||
    !isNonNegativeInt(b.seq) ||
    typeof b.sentAt !== 'string' ||
    !isISO8601(b.sentAt) ||
    ('epoch' in b && !isNonNegativeInt(b.epoch)) ||
    ('sig' in b && !isShortString(b.sig, 100))
  )
    return undefined;
  const services = b.services;
  if (
    services === null ||
    typeof services !== 'object' ||
    Object.getPrototypeOf(services) !== Object.prototype
  )
    return undefined;
  let n = 0;
  for (const name in services) {
    const state = (services as Record<string, unknown>)[name];
    if (++n > HEARTBEAT_MAX_SERVICES || !SERVICE_NAME.test(name)) return undefined;
    if (state !== 'running' && state !== 'stopped' && state !== 'failed') return undefined;
  }
  return b as unknown as AgentHeartbeat;
}

/** Validates a message received on an agent events address. Never throws. */
export function parseAgentEvent(body: unknown): Validated<AgentEvent> {
  // see Note [Heartbeat fast path]
  const hb = fastHeartbeat(body);
  if (hb) return { ok: true, value: hb };
  const kind = kindOf(body);
  if (typeof kind !== 'string' || !(kind in EVENT_CLASSES)) {
    return {
      ok: false,
      errors: [{ field: 'kind', message: `kind must be one of ${Object.keys(EVENT_CLASSES).join(', ')}` }],
    };
  }
  const cls = EVENT_CLASSES[kind as keyof typeof EVENT_CLASSES] as new () => AgentEvent;
  return validateData(cls, body, 'body');
}

/** Validates a command received by an agent. Never throws. */
export function parseAgentCommand(body: unknown): Validated<AgentCommand> {
  return validateData(AgentCommand, body, 'body');
}
