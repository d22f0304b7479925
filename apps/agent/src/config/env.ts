import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { loadEnv } from '@nephele/service-kit';
import { parseDuration } from '@nephele/util';

/**
 * The agent's environment. Identity may also come from `NEPHELE_USER_DATA` (JSON, or base64 of
 * JSON), which is how the `local` cloud driver passes user data; explicit variables win.
 */
export class AgentEnv {
  @IsOptional() @IsString() @MaxLength(200) NEPHELE_ASSEMBLY_ID?: string = undefined;
  @IsOptional() @IsString() @MaxLength(200) NEPHELE_DEPLOYABLE_ID?: string = undefined;
  @IsOptional() @IsString() @MaxLength(1000) NEPHELE_AGENT_SECRET?: string = undefined;
  @IsOptional() @IsString() @MaxLength(65_536) NEPHELE_USER_DATA?: string = undefined;
  /** The edge: RabbitMQ's AMQP 1.0 plugin (amqp://user:pw@host:5672[/vhost]) or the all-in-one listener. */
  @IsOptional() @IsString() AMQP10_URL?: string = undefined;
  @IsOptional() @IsString() NEPHELE_HEARTBEAT_INTERVAL?: string = undefined;
  @IsString() NEPHELE_OCF_ROOT = '/usr/lib/ocf';
  @IsString() NEPHELE_LSB_DIR = '/etc/init.d';
  /** Where the agent keeps, across its own restarts, the highest epoch it has seen and the process services it started (adopted after a crash). Optional. */
  @IsOptional() @IsString() NEPHELE_AGENT_STATE_DIR?: string = undefined;
  /**
   * Where the agent looks for its identity when neither these variables nor NEPHELE_USER_DATA
   * carry it: `auto` (OpenStack metadata, then EC2 IMDSv2), `openstack`, `ec2`, or `off`.
   */
  @IsIn(['auto', 'openstack', 'ec2', 'off']) NEPHELE_METADATA = 'auto';
  /** The metadata service (both OpenStack's and EC2's answer at this link-local address). */
  @IsString() NEPHELE_METADATA_URL = 'http://169.254.169.254';
  /**
   * Set by systemd for units with LoadCredential= (see Note [Agent bootstrap] in libs/drivers):
   * `agent-secret` and `edge-url` there stand for NEPHELE_AGENT_SECRET and AMQP10_URL.
   */
  @IsOptional() @IsString() CREDENTIALS_DIRECTORY?: string = undefined;
  /** Serve GET /healthz on this port when set (0 = off). */
  @IsInt() @Min(0) @Max(65535) PORT = 0;
  @IsIn(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) LOG_LEVEL = 'info';
}

export interface AgentConfig {
  assemblyId: string;
  deployableId: string;
  /** SASL PLAIN password when the edge URL carries no credentials (listen mode). */
  secret?: string;
  edgeUrl: string;
  heartbeatIntervalMs: number;
  ocfRoot: string;
  lsbDir: string;
  stateDir?: string;
  port: number;
  logLevel: string;
}

export const DEFAULT_EDGE_URL = 'amqp://127.0.0.1:5673';
export const DEFAULT_HEARTBEAT_INTERVAL = '5s';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** What a `#cloud-config` made by Nephele carries in its identity comment line. */
const IDENTITY_COMMENT = '# nephele-agent-identity: ';

/** User data keys: camelCase or the environment names. */
function fromUserData(raw: string | undefined): Record<string, string | undefined> {
  if (!raw) return {};
  let text = raw.trim();
  if (text.startsWith('#cloud-config')) {
    // The cloud-config of Note [Agent bootstrap]: the identity is in one comment line.
    const line = text.split('\n').find((l) => l.startsWith(IDENTITY_COMMENT));
    if (!line) {
      throw new Error(
        'invalid environment:\n  NEPHELE_USER_DATA: a #cloud-config without a nephele-agent-identity line',
      );
    }
    text = line.slice(IDENTITY_COMMENT.length).trim();
  }
  if (!text.startsWith('{')) text = Buffer.from(text, 'base64').toString('utf8').trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('invalid environment:\n  NEPHELE_USER_DATA: must be a JSON object (or base64 of one)');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('invalid environment:\n  NEPHELE_USER_DATA: must be a JSON object');
  }
  const o = parsed as Record<string, unknown>;
  const pick = (...keys: string[]) => {
    for (const k of keys) if (typeof o[k] === 'string' || typeof o[k] === 'number') return String(o[k]);
    return undefined;
  };
  return {
    assemblyId: pick('assemblyId', 'NEPHELE_ASSEMBLY_ID'),
    deployableId: pick('deployableId', 'NEPHELE_DEPLOYABLE_ID'),
    secret: pick('agentSecret', 'NEPHELE_AGENT_SECRET'),
    edgeUrl: pick('amqp10Url', 'AMQP10_URL'),
    heartbeat: pick('heartbeatInterval', 'NEPHELE_HEARTBEAT_INTERVAL'),
  };
}

/** Loads and checks the agent's configuration; throws one error listing every problem. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const e = loadEnv(AgentEnv, env);
  const ud = fromUserData(e.NEPHELE_USER_DATA);
  const assemblyId = e.NEPHELE_ASSEMBLY_ID ?? ud.assemblyId;
  const deployableId = e.NEPHELE_DEPLOYABLE_ID ?? ud.deployableId;
  const edgeUrl = e.AMQP10_URL ?? ud.edgeUrl ?? DEFAULT_EDGE_URL;
  const problems: string[] = [];
  if (!assemblyId || !ID.test(assemblyId)) {
    problems.push(
      '  NEPHELE_ASSEMBLY_ID: required (or assemblyId in NEPHELE_USER_DATA), letters, digits, _.:-',
    );
  }
  if (!deployableId || !ID.test(deployableId)) {
    problems.push(
      '  NEPHELE_DEPLOYABLE_ID: required (or deployableId in NEPHELE_USER_DATA), letters, digits, _.:-',
    );
  }
  if (!/^amqps?:\/\/[^/]+/.test(edgeUrl))
    problems.push('  AMQP10_URL: must be amqp://host:port or amqps://…');
  let heartbeatIntervalMs = 0;
  try {
    heartbeatIntervalMs = parseDuration(
      e.NEPHELE_HEARTBEAT_INTERVAL ?? ud.heartbeat ?? DEFAULT_HEARTBEAT_INTERVAL,
    );
    if (heartbeatIntervalMs < 50 || heartbeatIntervalMs > 3_600_000) throw new Error('out of range');
  } catch {
    problems.push('  NEPHELE_HEARTBEAT_INTERVAL: a duration between 50ms and 1h (e.g. 1s, 500ms)');
  }
  if (problems.length) throw new Error(`invalid environment:\n${problems.join('\n')}`);
  return {
    assemblyId: assemblyId!,
    deployableId: deployableId!,
    secret: e.NEPHELE_AGENT_SECRET ?? ud.secret,
    edgeUrl,
    heartbeatIntervalMs,
    ocfRoot: e.NEPHELE_OCF_ROOT,
    lsbDir: e.NEPHELE_LSB_DIR,
    stateDir: e.NEPHELE_AGENT_STATE_DIR,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
  };
}
