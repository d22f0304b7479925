export const FEED_POLLER_DB = Symbol('FEED_POLLER_DB');
export const FEED_POLLER_EMBEDDED = Symbol('FEED_POLLER_EMBEDDED');
export const FEED_POLLER_OUTBOX = Symbol('FEED_POLLER_OUTBOX');
export const FEED_POLLER_CONFIG = Symbol('FEED_POLLER_CONFIG');
/** `SecretBox | null`: null when NEPHELE_MASTER_KEY is not set. */
export const FEED_SECRET_BOX = Symbol('FEED_SECRET_BOX');
