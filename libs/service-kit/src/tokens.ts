/** Injection tokens of the process-wide infrastructure (CoreModule). */
export const BUS = Symbol('BUS');
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');
export const CLOCK = Symbol('CLOCK');
/** `TokenRevocations` of the process: `onTokenRevoked(listener)` (see Note [Revocation]). */
export const TOKEN_REVOCATIONS = Symbol('TOKEN_REVOCATIONS');

/** The clock, injected where time matters so tests can move it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
/** The service name CoreModule was started with (`nephele` in the all-in-one). */
export const SERVICE_NAME = Symbol('SERVICE_NAME');
/** `BusClient` of the process: a NestJS `ClientProxy` over the bus (see Note [Bus transport]). */
export const BUS_CLIENT = Symbol('BUS_CLIENT');
