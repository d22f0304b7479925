import {
  CpeDeployableGet,
  CpeDpeStateGet,
  CpeDpeStatePut,
  DeployableConfigChanged,
  DeployableObserved,
  DpeControl,
} from './events/cpe.events';
import { ConfigChanged } from './events/config.events';
import {
  AccountCredentials,
  ApplianceResolve,
  ConfigExport,
  ProjectResolve,
  TokenIntrospect,
} from './events/config-api.requests';
import { InstanceActionCompleted, InstanceQuery, ListAccountInstances } from './events/iaas.events';
import {
  InstanceProviderEvent,
  InstanceStateChanged,
  InstanceVanished,
  LaunchFailed,
  LaunchSucceeded,
} from './events/instance.events';
import { MetricObserved } from './events/metric.events';
import { DeployableStatusChanged, DpeHeartbeat, DpeStarted } from './events/policy-engine.events';
import { AlarmTriggered } from './events/scaling.events';
import {
  InstanceCreate,
  InstanceDestroy,
  InstanceReboot,
  InstanceStart,
  InstanceStop,
} from './commands/iaas.commands';

const EVENTS = 'nephele.events';
const COMMANDS = 'nephele.commands';

/**
 * A queue of the core bus and what travels on it. Consumers name the queue of each handler
 * (`@EventPattern(Type, { queue })`); the bus transport binds it to the handlers' types and refuses
 * to start when a type the queue carries has no handler, has two, or a handler's type is not one
 * the queue carries.
 */
export interface QueueSpec {
  /**
   * `<service>.<purpose>`: the prefix names the DLQ (`<service>.dlq`). A name without a service
   * prefix (`token-revocations`) is prefixed with the name of the process's service.
   */
  readonly name: string;
  /** `nephele.events` (subscriptions) or `nephele.commands` (commands and requests). */
  readonly exchange: string;
  /** Routing keys bound: the message types, or a topic pattern (`#`) for a sink. */
  readonly carries: readonly string[];
  /** `request`: request/reply (`@MessagePattern`); `deliver` (default): at-least-once delivery. */
  readonly style?: 'deliver' | 'request';
  /** One queue per process (exclusive, auto-delete), its name suffixed with a unique id. */
  readonly exclusive?: boolean;
  /** Unacknowledged messages in flight (default 64). */
  readonly prefetch?: number;
  /** Check the data of registered types before a handler runs (default true). */
  readonly validate?: boolean;
  /** Hand messages to the handler in batches (default size; services may tune it at start). */
  readonly batch?: { readonly size: number; readonly maxWaitMs: number };
}

const q = (spec: QueueSpec): QueueSpec => spec;

/** Every queue of the core bus, by the service that consumes it. */
const queues = {
  /** Every event, stored by the event log (a sink: envelopes checked, data left to the owners). */
  eventLog: q({
    name: 'event-log.events',
    exchange: EVENTS,
    carries: ['#'],
    validate: false,
    batch: { size: 1000, maxWaitMs: 20 },
  }),

  stateTrackerGatewayResults: q({
    name: 'state-tracker.gateway-results',
    exchange: EVENTS,
    carries: [LaunchSucceeded.type, InstanceActionCompleted.type],
    prefetch: 32,
  }),
  stateTrackerProviderEvents: q({
    name: 'state-tracker.provider-events',
    exchange: EVENTS,
    carries: [InstanceProviderEvent.type],
    prefetch: 32,
  }),
  stateTrackerQuery: q({
    name: 'state-tracker.query',
    exchange: COMMANDS,
    style: 'request',
    carries: [InstanceQuery.type],
  }),

  gatewayCommands: q({
    name: 'iaas-gateway.commands',
    exchange: COMMANDS,
    carries: [
      InstanceCreate.type,
      InstanceDestroy.type,
      InstanceStart.type,
      InstanceStop.type,
      InstanceReboot.type,
    ],
    prefetch: 16,
  }),
  gatewayInstanceEvents: q({
    name: 'iaas-gateway.instance-events',
    exchange: EVENTS,
    carries: [InstanceVanished.type, InstanceStateChanged.type, DpeStarted.type],
    prefetch: 32,
  }),
  gatewayList: q({
    name: 'iaas-gateway.list',
    exchange: COMMANDS,
    style: 'request',
    carries: [ListAccountInstances.type],
  }),
  /** Each gateway process drops its cached broker configuration when the configuration changes. */
  gatewayConfigChanges: q({
    name: 'iaas-gateway.config-changes',
    exchange: EVENTS,
    exclusive: true,
    carries: [ConfigChanged.type],
  }),

  cpeDpeConfig: q({
    name: 'cloud-policy-engine.dpe-config',
    exchange: COMMANDS,
    style: 'request',
    carries: [CpeDeployableGet.type],
  }),
  cpeDpeState: q({
    name: 'cloud-policy-engine.dpe-state',
    exchange: COMMANDS,
    style: 'request',
    carries: [CpeDpeStateGet.type, CpeDpeStatePut.type],
  }),
  cpeDpeReports: q({
    name: 'cloud-policy-engine.dpe-reports',
    exchange: EVENTS,
    carries: [DeployableObserved.type, DeployableStatusChanged.type],
    prefetch: 256,
  }),
  /** Each CPE replica watches every DPE's heartbeat. */
  cpeDpeHeartbeats: q({
    name: 'cloud-policy-engine.dpe-heartbeats',
    exchange: EVENTS,
    exclusive: true,
    carries: [DpeHeartbeat.type],
    prefetch: 512,
  }),

  configAppliances: q({
    name: 'config-api.appliances',
    exchange: COMMANDS,
    style: 'request',
    carries: [ApplianceResolve.type],
  }),
  configExport: q({
    name: 'config-api.export',
    exchange: COMMANDS,
    style: 'request',
    carries: [ConfigExport.type],
  }),
  configProjectResolve: q({
    name: 'config-api.project-resolve',
    exchange: COMMANDS,
    style: 'request',
    carries: [ProjectResolve.type],
  }),
  configAccountCredentials: q({
    name: 'config-api.account-credentials',
    exchange: COMMANDS,
    style: 'request',
    carries: [AccountCredentials.type],
  }),
  configTokenIntrospect: q({
    name: 'config-api.token-introspect',
    exchange: COMMANDS,
    style: 'request',
    carries: [TokenIntrospect.type],
  }),

  scalerAlarms: q({ name: 'scaler.alarms', exchange: EVENTS, carries: [AlarmTriggered.type], prefetch: 16 }),
  scalerMetrics: q({
    name: 'scaler.metrics',
    exchange: EVENTS,
    carries: [MetricObserved.type],
    prefetch: 64,
  }),
  scalerInstanceEvents: q({
    name: 'scaler.instance-events',
    exchange: EVENTS,
    carries: [
      LaunchSucceeded.type,
      LaunchFailed.type,
      InstanceStateChanged.type,
      InstanceVanished.type,
      InstanceActionCompleted.type,
    ],
    prefetch: 32,
  }),

  /** Every service process follows token revocations (see Note [Revocation]). */
  tokenRevocations: q({
    name: 'token-revocations',
    exchange: EVENTS,
    exclusive: true,
    carries: [ConfigChanged.type],
    prefetch: 256,
  }),

  /** The instance events and config changes of the DPEs a worker hosts (one queue per worker). */
  dpeWorkerEvents: q({
    name: 'dpe-worker.events',
    exchange: EVENTS,
    exclusive: true,
    carries: [
      LaunchSucceeded.type,
      LaunchFailed.type,
      InstanceStateChanged.type,
      DeployableConfigChanged.type,
    ],
    prefetch: 256,
  }),
  /** Start/stop of the DPEs a worker hosts (each host reads every one and acts on its own). */
  dpeWorkerControl: q({
    name: 'dpe-worker.control',
    exchange: COMMANDS,
    exclusive: true,
    carries: [DpeControl.type],
  }),
} as const;

/** Exchange and queue names of the core bus (ARCHITECTURE §1). */
export const Topology = {
  /** Topic exchange carrying every event; routing key = event type. */
  events: EVENTS,
  /** Topic exchange carrying commands to the owning service; routing key = command type. */
  commands: COMMANDS,
  /** Dead-letter exchange (direct); each service has a `<service>.dlq` queue bound with its name. */
  dlx: 'nephele.dlx',
  dlq: (service: string) => `${service}.dlq`,
  /** Header that carries why a message was dead-lettered. */
  deadLetterReasonHeader: 'x-nephele-dead-letter-reason',
  deadLetterQueueHeader: 'x-nephele-original-queue',
  queues,
} as const;

/** Well-known AMQP 1.0 edge addresses (ARCHITECTURE §5). */
export const EdgeAddresses = {
  cpe: 'nephele.cpe',
  /** Agents send heartbeats and service results here. */
  agentEvents: 'nephele.agent.events',
  /** Commands to one agent (`nephele.agent.<assemblyId>`). */
  agent: (assemblyId: string) => `nephele.agent.${assemblyId}`,
} as const;
