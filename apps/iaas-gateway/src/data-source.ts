import { CreateLaunchAttempts1763790000000 } from './migrations/1763790000000-CreateLaunchAttempts';
import { CreateOpenStack1765080000000 } from './migrations/1765080000000-CreateOpenStack';

export const GATEWAY_SCHEMA = 'iaas_gateway';
export const gatewayMigrations = [CreateLaunchAttempts1763790000000, CreateOpenStack1765080000000];
