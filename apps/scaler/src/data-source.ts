import { CreateScaler1763800000000 } from './migrations/1763800000000-CreateScaler';
import { TargetTracking1765100000000 } from './migrations/1765100000000-TargetTracking';
import { InstanceProtection1765200000000 } from './migrations/1765200000000-InstanceProtection';
import { RefreshAndHooks1765300000000 } from './migrations/1765300000000-RefreshAndHooks';

export const SCALER_SCHEMA = 'scaler';
export const SERVICE = 'scaler';
export const scalerMigrations = [
  CreateScaler1763800000000,
  TargetTracking1765100000000,
  InstanceProtection1765200000000,
  RefreshAndHooks1765300000000,
];
