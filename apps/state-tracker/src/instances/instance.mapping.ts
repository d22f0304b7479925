import { INSTANCE_STATES, InstanceState } from '@nephele/contracts';
import { InstanceRow } from './instances.repository';

export interface InstanceView {
  id: string;
  owner: string;
  project: string | null;
  pool: string | null;
  providerAccountId: string;
  providerInstanceId: string | null;
  name: string | null;
  image: string | null;
  hardwareProfile: string | null;
  state: string;
  addresses: string[];
  reason: string | null;
  lastSeen: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export function toView(r: InstanceRow): InstanceView {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: r.id,
    owner: r.owner,
    project: r.project,
    pool: r.pool,
    providerAccountId: r.provider_account_id,
    providerInstanceId: r.provider_instance_id,
    name: r.name,
    image: r.image,
    hardwareProfile: r.hardware_profile,
    state: r.state,
    addresses: r.addresses,
    reason: r.reason,
    lastSeen: iso(r.last_seen),
    version: r.version,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

/** Maps provider vocabularies (Nova statuses, feed event names) to instance states. */
export function normaliseState(s: string | undefined): InstanceState | undefined {
  if (!s) return undefined;
  const v = s.toLowerCase();
  if ((INSTANCE_STATES as readonly string[]).includes(v)) return v as InstanceState;
  const map: Record<string, InstanceState> = {
    active: 'running',
    build: 'pending',
    building: 'pending',
    shutoff: 'stopped',
    deleted: 'terminated',
    'compute.instance.create.end': 'running',
    'compute.instance.delete.end': 'terminated',
    'compute.instance.power_off.end': 'stopped',
    'compute.instance.power_on.end': 'running',
    'compute.instance.reboot.start': 'rebooting',
    'compute.instance.reboot.end': 'running',
  };
  return map[v];
}
