export const CONFIG_API_DB = Symbol('CONFIG_API_DB');
export const CONFIG_API_CONFIG = Symbol('CONFIG_API_CONFIG');
export const OUTBOX_RELAY = Symbol('CONFIG_API_OUTBOX_RELAY');
export const IN_PROCESS_TOKENS = Symbol('CONFIG_API_IN_PROCESS_TOKENS');
