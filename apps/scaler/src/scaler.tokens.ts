export const SCALER_DB = Symbol('SCALER_DB');
export const SCALER_CONFIG = Symbol('SCALER_CONFIG');
export const SCALER_EMBEDDED = Symbol('SCALER_EMBEDDED');
export const SCALER_OUTBOX = Symbol('SCALER_OUTBOX');
/** The load-balancer drivers by balancer id (see lb.registry.ts). */
export const SCALER_LB_DRIVERS = Symbol('SCALER_LB_DRIVERS');
