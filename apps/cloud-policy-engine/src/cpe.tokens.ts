export const CPE_DB = Symbol('CPE_DB');
export const CPE_EMBEDDED = Symbol('CPE_EMBEDDED');
export const CPE_OUTBOX = Symbol('CPE_OUTBOX');
export const CPE_CONFIG = Symbol('CPE_CONFIG');
/** The AMQP 1.0 edge connection (management address, and agents for inline DPEs). */
export const CPE_EDGE = Symbol('CPE_EDGE');
/** The in-process DPE host of the `inline` runtime (provided by the all-in-one). */
export const DPE_INLINE_HOST = Symbol('DPE_INLINE_HOST');
export const SERVICE = 'cloud-policy-engine';
