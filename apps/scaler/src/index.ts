export { ScalerModule } from './scaler.module';
export { loadScalerConfig } from './config/env';
export type { ScalerConfig, LoadBalancerConfig } from './config/env';
