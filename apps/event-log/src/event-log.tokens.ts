export const EVENT_LOG_DB = Symbol('EVENT_LOG_DB');
export const EVENT_LOG_CONFIG = Symbol('EVENT_LOG_CONFIG');
