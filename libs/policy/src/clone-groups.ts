import type { CloneSpec } from './cluster.types';

// Note [Clones of groups]
// ~~~~~~~~~~~~~~~~~~~~~~~
// An anonymous, non-promotable clone whose child is a group, as Pacemaker 2.1.5 plans it
// (`clone_unpack`, `pcmk__clone_allocate`, `pcmk__group_assign`, `find_anonymous_clone`):
// - instance i is the group `<group>:i` with members `<member>:i` (each a group of its own:
//   ordered and colocated inside the instance); members inherit their own meta attributes, then
//   the group's, then the clone's (resource-stickiness defaulting to 1);
// - the clone assigns its group instances as it assigns primitive instances (Note [Clones]);
//   `can_run_instance` changes the scores of the instance and of each of its members, the
//   preferred node is passed down to every member. When a pre-assignment to the current node
//   is undone, `pcmk__unassign_resource` does nothing for a group (it has no node of its own):
//   its members stay where they were assigned, and the node's instance count is not raised;
// - a location on the clone applies to the clone, to each instance and its first member;
// - the status maps a member's history on a node (with or without instance number) to the
//   instance partly active there already, else to the first instance active nowhere yet.
// Refused by the reader: promotable or globally-unique clones of groups, constraints other than
// locations naming the clone, the group or a member, fail counts of members, and a member
// active on a node where a member before it in its instance is not.

/** A member of a cloned group, by its configured id. */
export interface ClonedGroupMember {
  clone: CloneSpec;
  /** Its position in the group. */
  position: number;
}

/** The state `find_anonymous_clone` keeps while the status is read, for one node. */
export class ClonedGroupStatus {
  /** Instances (group ids) with an active member, anywhere. */
  private readonly activeInstances = new Set<string>();
  /** Per node, per clone: the instance number active there. */
  private readonly here = new Map<string, number>();

  /** The instance resource id a member's history on `node` is mapped to (undefined: an orphan). */
  instanceOf(node: string, info: ClonedGroupMember, memberId: string, memberActive: (id: string) => boolean): string | undefined {
    const key = `${info.clone.id}\u0000${node}`;
    const k = this.here.get(key);
    if (k !== undefined) {
      const id = `${memberId}:${k}`;
      return memberActive(id) ? undefined : id;
    }
    const free = info.clone.instances.findIndex((g) => !this.activeInstances.has(g));
    return free < 0 ? undefined : `${memberId}:${free}`;
  }

  /** Per node and instance: the positions of its active members, by member id. */
  private readonly positions = new Map<string, Map<number, string>>();

  /** Records that `instanceId` (`<member>:i`) is active on `node`. */
  active(node: string, info: ClonedGroupMember, instanceId: string): void {
    const k = Number(instanceId.slice(instanceId.lastIndexOf(':') + 1));
    this.here.set(`${info.clone.id}\u0000${node}`, k);
    this.activeInstances.add(info.clone.instances[k]!);
    const key = `${info.clone.instances[k]!}\u0000${node}`;
    const at = this.positions.get(key) ?? new Map<number, string>();
    at.set(info.position, instanceId);
    this.positions.set(key, at);
  }

  /**
   * A member active on `node` while a member before it in its group instance is not (held-out
   * CIBs placed such instances differently from crm_simulate: refused, not modelled).
   */
  activeAfterGap(node: string): string | undefined {
    for (const [key, at] of this.positions) {
      if (!key.endsWith(`\u0000${node}`)) continue;
      const last = Math.max(...at.keys());
      for (let p = 0; p < last; p++) if (!at.has(p)) return at.get(last);
    }
    return undefined;
  }
}
