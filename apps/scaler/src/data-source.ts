import { CreateScaler1763800000000 } from './migrations/1763800000000-CreateScaler';

export const SCALER_SCHEMA = 'scaler';
export const SERVICE = 'scaler';
export const scalerMigrations = [CreateScaler1763800000000];
