export { DpeHost } from './host/dpe-host';
export type { DpeHostOptions } from './host/dpe-host';
export { Dpe } from './dpe/dpe';
