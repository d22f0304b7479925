export const TRACKER_DB = Symbol('TRACKER_DB');
export const TRACKER_CONFIG = Symbol('TRACKER_CONFIG');
export const TRACKER_EMBEDDED = Symbol('TRACKER_EMBEDDED');
