export { IaasGatewayModule } from './iaas-gateway.module';
export { loadGatewayConfig } from './config/env';
export type { GatewayConfig } from './config/env';
