/** A distributed Nephele service: its app, default port and REST prefixes (ARCHITECTURE §2). */
export interface NepheleServiceSpec {
  app: string;
  port: number;
  prefixes: string[];
  /** Env read from the connection Secret besides DATABASE_URL, AMQP_URL, NEPHELE_BOOTSTRAP_TOKEN. */
  secrets: string[];
}

/** The Secret key (nephele-connection) holding a service's own RabbitMQ URL, e.g. AMQP_URL_SCALER. */
export const amqpUrlKey = (app: string): string => `AMQP_URL_${app.toUpperCase().replace(/-/g, '_')}`;

/** The .env variable holding a RabbitMQ user's password in compose, e.g. RABBITMQ_SCALER_PASSWORD. */
export const rabbitPasswordVar = (user: string): string =>
  user === 'nephele'
    ? 'RABBITMQ_PASSWORD'
    : `RABBITMQ_${user.replace(/^nephele-/, '').toUpperCase().replace(/-/g, '_')}_PASSWORD`;

/**
 * The RabbitMQ users of deploy/compose/rabbitmq/definitions.json: one per service (the user name is
 * the service's name, which is also its queues' prefix), agents, management clients, the admin.
 */
export const BROKER_SERVICE_USERS = [
  'config-api',
  'iaas-gateway',
  'state-tracker',
  'cloud-policy-engine',
  'dpe-worker',
  'scaler',
  'feed-poller',
  'event-log',
] as const;
export const BROKER_USERS = [...BROKER_SERVICE_USERS, 'nephele-agent', 'nephele-client', 'nephele'] as const;
/** The only user allowed everything on the vhost. */
export const BROKER_ADMIN = 'nephele';

/** Every service deployed on its own (dpe-worker runs under the CPE; the agent inside instances). */
export const NEPHELE_SERVICES: readonly NepheleServiceSpec[] = [
  {
    app: 'config-api',
    port: 8081,
    prefixes: [
      '/v1/providers',
      '/v1/provider-accounts',
      '/v1/hardware-profiles',
      '/v1/pool-families',
      '/v1/pools',
      '/v1/images',
      '/v1/image-mappings',
      '/v1/appliances',
      '/v1/projects',
      '/v1/tokens',
    ],
    secrets: ['NEPHELE_MASTER_KEY'],
  },
  { app: 'iaas-gateway', port: 8082, prefixes: ['/cimi'], secrets: [] },
  { app: 'state-tracker', port: 8083, prefixes: ['/v1/instances', '/v1/callbacks'], secrets: [] },
  {
    app: 'cloud-policy-engine',
    port: 8084,
    prefixes: ['/v1/deployables', '/v1/clusters'],
    secrets: [],
  },
  { app: 'event-log', port: 8085, prefixes: ['/v1/events'], secrets: [] },
  {
    app: 'scaler',
    port: 8086,
    prefixes: ['/v1/groups', '/v1/execute', '/v1/alarms'],
    secrets: ['NEPHELE_MASTER_KEY'],
  },
  { app: 'feed-poller', port: 8087, prefixes: ['/v1/feeds'], secrets: ['NEPHELE_MASTER_KEY'] },
];

/** Env every service reads from the connection Secret under the same key (AMQP_URL: its own key). */
export const COMMON_SECRETS = ['DATABASE_URL', 'NEPHELE_BOOTSTRAP_TOKEN'] as const;

/** The kustomize overlays under deploy/overlays and what they promise. */
export const OVERLAYS = [
  { name: 'dev', namespace: 'nephele-dev', minReplicas: 1, maxReplicas: 1 },
  { name: 'prod', namespace: 'nephele', minReplicas: 2, maxReplicas: Infinity },
] as const;
