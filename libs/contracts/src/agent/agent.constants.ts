// Note [Agent protocol]
// The agent in every assembly talks to its deployable's DPE over the AMQP 1.0 edge
// (ARCHITECTURE §1, §5). Bodies are JSON in one binary data section (content-type
// application/json); every body carries `kind`, which is also copied into the application property
// `nephele.kind` so a consumer can route without parsing.
//
//   agent → DPE   nephele.agent.events.<deployableId>   heartbeat | service-status | command-refused
//   DPE → agent   nephele.agent.<assemblyId>            command (start | stop | monitor | configure)
//
// Through RabbitMQ both are `/queue/<address>` (non-durable, the plugin's default; both sides must
// attach with the same durability or the link fails). Events go to one address per deployable, not
// one shared queue: DPEs of different deployables run in different processes, and a shared queue
// would hand one deployable's heartbeats to another's DPE (competing consumers).
//
// A command may carry `reply-to` + `correlation-id` (request/reply): its result goes to reply-to
// with the same correlation-id. Without reply-to the result goes to the events address. Either way
// the result is a `service-status` (or a `command-refused`) that echoes `requestId` and `epoch`.
//
// Fencing: the agent remembers the highest epoch it has seen and refuses any command with a lower
// one (a stale DPE cannot act). Commands are idempotent by `requestId`: a repeated id gets the
// first result again, without acting twice.
//
// Heartbeats are transient (durable=false, TTL of three intervals), so a queue of an absent DPE
// does not fill with stale ones; they carry the current state of every service the agent knows,
// which makes the protocol level-based: a lost result is repaired by the next heartbeat.

/** AMQP 1.0 edge addresses of the agent protocol (logical; `/queue/<address>` through RabbitMQ). */
export const AgentAddresses = {
  /** Where agents of one deployable send heartbeats, results and failures; its DPE consumes it. */
  events: (deployableId: string): string => `nephele.agent.events.${deployableId}`,
  /** Commands to one agent. */
  commands: (assemblyId: string): string => `nephele.agent.${assemblyId}`,
} as const;

/** Application properties set on every agent-protocol message. */
export const AgentProperties = {
  /** The body's `kind`. */
  kind: 'nephele.kind',
  assembly: 'nephele.assembly',
  deployable: 'nephele.deployable',
} as const;

export const SERVICE_STATES = ['running', 'stopped', 'failed'] as const;
/** The observed state of a service on its assembly. */
export type ServiceState = (typeof SERVICE_STATES)[number];

/**
 * Why a service failed, as far as the agent can tell: `not-installed` (the binary, OCF agent or
 * init script is missing, OCF_ERR_INSTALLED), `not-configured` (OCF_ERR_CONFIGURED/ARGS/PERM),
 * `start-timeout` (start did not finish in time), `check-failed` (started, but its checks did not
 * pass), `exited` (the process ended), `monitor-failed`, `error` (anything else). The first two
 * are hard errors: retrying on the same image cannot help.
 */
export const SERVICE_FAILURE_CAUSES = [
  'not-installed',
  'not-configured',
  'start-timeout',
  'check-failed',
  'exited',
  'monitor-failed',
  'error',
] as const;
export type ServiceFailureCause = (typeof SERVICE_FAILURE_CAUSES)[number];

export const SERVICE_CLASSES = ['process', 'systemd', 'lsb', 'ocf'] as const;
/** How the agent runs a service (Pacemaker's resource classes, plus plain processes). */
export type ServiceClass = (typeof SERVICE_CLASSES)[number];

export const AGENT_ACTIONS = ['start', 'stop', 'monitor', 'configure'] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

/** Service names: also used as OCF_RESOURCE_INSTANCE and in log lines. */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** OCF provider/type, LSB script and systemd unit names: no path separators, no `..`. */
export const RESOURCE_NAME = /^(?!\.\.?$)[A-Za-z0-9@_.:+-]{1,200}$/;
/** Parameter names become environment variables (`OCF_RESKEY_<name>`). */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
