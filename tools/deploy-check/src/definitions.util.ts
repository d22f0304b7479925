import path from 'node:path';
import { WORKSPACE_ROOT } from './render.util';

/** The RabbitMQ definitions of Nephele's users and vhost permissions (compose and Kubernetes). */
export const DEFINITIONS_FILE = path.join(WORKSPACE_ROOT, 'deploy/compose/rabbitmq/definitions.json');

export interface Definitions {
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] | string }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  exchanges?: { name: string; vhost: string; type: string; durable: boolean }[];
}
