// DMTF CIMI (DSP0263) JSON representations, the subset Nephele serves: CloudEntryPoint, Machine(s),
// MachineConfiguration(s), MachineImage(s), MachineTemplate(s), MachineCreate and Action.

export const CIMI = 'http://schemas.dmtf.org/cimi/2';
export const ACTION = (name: string) => `${CIMI}/action/${name}`;

export interface Ref {
  href: string;
}

export interface Operation {
  rel: string;
  href: string;
}

export interface CimiResource {
  resourceURI: string;
  id: string;
  name?: string;
  description?: string;
  created?: string;
  updated?: string;
  properties?: Record<string, string>;
  operations?: Operation[];
}

export type MachineState =
  | 'CREATING'
  | 'STARTING'
  | 'STARTED'
  | 'STOPPING'
  | 'STOPPED'
  | 'RESTARTING'
  | 'DELETING'
  | 'DELETED'
  | 'ERROR';

/** Nephele instance states in CIMI's vocabulary. */
export function machineState(s: string): MachineState {
  switch (s) {
    case 'pending':
      return 'CREATING';
    case 'running':
      return 'STARTED';
    case 'stopping':
      return 'STOPPING';
    case 'stopped':
      return 'STOPPED';
    case 'rebooting':
      return 'RESTARTING';
    case 'terminating':
      return 'DELETING';
    case 'terminated':
      return 'DELETED';
    default:
      return 'ERROR';
  }
}
