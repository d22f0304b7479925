export { CpeModule } from './cpe.module';
export type { CpeModuleOptions } from './cpe.module';
export { loadCpeConfig } from './config/env';
export type { CpeConfig } from './config/env';
export type { DpeInlineHost } from './dpe/inline.runtime';
export { AgentCredentials } from './deployables/agent-credentials';
export type { AgentPrincipal } from './deployables/agent-credentials';
