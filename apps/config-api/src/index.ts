export { ConfigApiModule } from './config-api.module';
export type { ConfigApiModuleOptions } from './config-api.module';
export { loadConfigApiConfig } from './config/env';
export type { ConfigApiConfig } from './config/env';
