import { CreateLaunchAttempts1763790000000 } from './migrations/1763790000000-CreateLaunchAttempts';

export const GATEWAY_SCHEMA = 'iaas_gateway';
export const gatewayMigrations = [CreateLaunchAttempts1763790000000];
