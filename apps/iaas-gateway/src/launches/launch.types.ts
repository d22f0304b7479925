import { InstanceCreateData, LaunchResultData } from '@nephele/contracts';

export type LaunchOutcome =
  | { ok: true; instanceId: string; providerInstanceId: string; providerAccountId: string }
  | { ok: false; instanceId: string; reason: string };

/** One launch command being carried out: the command, its instance id and its result's common fields. */
export interface LaunchContext {
  d: InstanceCreateData;
  instanceId: string;
  base: LaunchResultData;
}

/** The owner's fencing key: `deployable:<id>/<assembly>` is fenced per deployable. */
export function ownerKey(owner: string): string {
  return owner.split('/')[0]!;
}
