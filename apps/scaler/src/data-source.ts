import { CreateScaler1763800000000 } from './migrations/1763800000000-CreateScaler';
import { TargetTracking1765100000000 } from './migrations/1765100000000-TargetTracking';

export const SCALER_SCHEMA = 'scaler';
export const SERVICE = 'scaler';
export const scalerMigrations = [CreateScaler1763800000000, TargetTracking1765100000000];
