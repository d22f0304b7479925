export const GATEWAY_DB = Symbol('GATEWAY_DB');
export const GATEWAY_EMBEDDED = Symbol('GATEWAY_EMBEDDED');
export const GATEWAY_OUTBOX = Symbol('GATEWAY_OUTBOX');
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
export const IMAGE_MAPPER = Symbol('IMAGE_MAPPER');
export const SERVICE = 'iaas-gateway';
