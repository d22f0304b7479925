/** Exchange and queue names of the core bus (ARCHITECTURE §1). */
export const Topology = {
  /** Topic exchange carrying every event; routing key = event type. */
  events: 'nephele.events',
  /** Topic exchange carrying commands to the owning service; routing key = command type. */
  commands: 'nephele.commands',
  /** Dead-letter exchange (direct); each service has a `<service>.dlq` queue bound with its name. */
  dlx: 'nephele.dlx',
  dlq: (service: string) => `${service}.dlq`,
  /** Header that carries why a message was dead-lettered. */
  deadLetterReasonHeader: 'x-nephele-dead-letter-reason',
  deadLetterQueueHeader: 'x-nephele-original-queue',
} as const;

/** Well-known AMQP 1.0 edge addresses (ARCHITECTURE §5). */
export const EdgeAddresses = {
  cpe: 'nephele.cpe',
  /** Agents send heartbeats and service results here. */
  agentEvents: 'nephele.agent.events',
  /** Commands to one agent (`nephele.agent.<assemblyId>`). */
  agent: (assemblyId: string) => `nephele.agent.${assemblyId}`,
} as const;
