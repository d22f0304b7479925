import { RuleXml, ruleAttr, ruleChildren } from './rules';

// Note [Tickets]
// ~~~~~~~~~~~~~~
// `rsc_ticket` as Pacemaker 2.1.5 applies it to a primitive (`constraints_for_ticket`). A ticket
// is granted when its `ticket_state` in the status says `granted` is true (a ticket with no state
// is not granted); `standby` true puts a granted ticket in standby. While the ticket is granted
// and not in standby nothing happens. Otherwise, with the resource's role Started (or unset):
// - ticket not granted and the resource active: `loss-policy` stop (the default) and demote ban it
//   from every node; freeze leaves it where it is, unmanaged (no action, no stickiness); fence
//   bans it too and makes the node it is active on unclean ("deadman ticket was lost"), so that
//   node is fenced and everything on it placed elsewhere (see Note [Fencing] in fencing.ts);
// - ticket not granted and the resource stopped, or granted but in standby: banned everywhere.
// `loss-policy=fence` without fencing enabled is stop.
// With rsc-role=Promoted (on a promotable clone: per instance), the default loss-policy is demote,
// and only what changes placement is kept: stop bans as above; demote, and fence or freeze of an
// instance not promoted now, do nothing (demote and promotion change roles only); fence and freeze
// of the promoted instance act as above. An inactive instance is banned only with loss-policy stop.

/** One resource's dependency on a ticket. */
export interface TicketDependency {
  id: string;
  resource: string;
  ticket: string;
  lossPolicy: 'stop' | 'demote' | 'fence' | 'freeze';
  /** rsc-role=Promoted (see Note [Tickets]). */
  promotedRole?: boolean;
}

/** What a ticket dependency does to its resource. */
export type TicketEffect = 'none' | 'ban' | 'freeze' | 'fence';

/** Granted/standby of every ticket in `<status><tickets>`. */
export function readTicketStates(status: RuleXml | undefined): Map<string, { granted: boolean; standby: boolean }> {
  const out = new Map<string, { granted: boolean; standby: boolean }>();
  const isTrue = (v: string | undefined): boolean => v !== undefined && ['true', 'on', 'yes', 'y', '1'].includes(v.trim().toLowerCase());
  for (const tickets of ruleChildren(status, 'tickets')) {
    for (const t of ruleChildren(tickets, 'ticket_state')) {
      const id = ruleAttr(t, 'id');
      if (id === undefined || id === '') continue;
      out.set(id, { granted: isTrue(ruleAttr(t, 'granted')), standby: isTrue(ruleAttr(t, 'standby')) });
    }
  }
  return out;
}

/** `pcmk__unpack_rsc_ticket` for one constraint: its dependencies (one per resource). */
export function unpackTicket(xml: RuleXml, stonithEnabled: boolean, refuse: (what: string) => void): TicketDependency[] {
  const id = ruleAttr(xml, 'id') ?? 'rsc_ticket';
  const ticket = ruleAttr(xml, 'ticket');
  const isPromoted = (role: string | undefined): boolean => ['promoted', 'master'].includes((role ?? '').toLowerCase());
  const lossFor = (promotedRole: boolean): TicketDependency['lossPolicy'] => {
    const loss = (ruleAttr(xml, 'loss-policy') ?? (promotedRole ? 'demote' : 'stop')).toLowerCase();
    if (loss === 'fence') return stonithEnabled ? 'fence' : 'stop';
    if (loss === 'freeze' || loss === 'demote' || loss === 'stop') return loss;
    return promotedRole ? 'demote' : 'stop';
  };
  const dependency = (depId: string, resource: string, role: string | undefined): TicketDependency =>
    isPromoted(role) ? { id: depId, resource, ticket: ticket!, lossPolicy: lossFor(true), promotedRole: true } : { id: depId, resource, ticket: ticket!, lossPolicy: lossFor(false) };
  if (ticket === undefined) return [];
  for (const k of ['rsc-instance']) if (ruleAttr(xml, k) !== undefined) refuse(`${k} in rsc_ticket ${id}`);
  const out: TicketDependency[] = [];
  const roleOk = (role: string | undefined): boolean => role === undefined || role.toLowerCase() === 'started';
  const sets = ruleChildren(xml, 'resource_set');
  if (sets.length > 0) {
    for (const set of sets) {
      const setId = ruleAttr(set, 'id') ?? id;
      if (ruleAttr(set, 'id-ref') !== undefined) refuse(`resource_set id-ref in rsc_ticket ${id}`);
      if (!roleOk(ruleAttr(set, 'role')) && !isPromoted(ruleAttr(set, 'role'))) refuse(`rsc_ticket ${id} for role ${ruleAttr(set, 'role')}`);
      for (const ref of ruleChildren(set, 'resource_ref')) {
        const rid = ruleAttr(ref, 'id');
        if (rid !== undefined) out.push(dependency(setId, rid, ruleAttr(set, 'role')));
      }
    }
    return out;
  }
  if (!roleOk(ruleAttr(xml, 'rsc-role')) && !isPromoted(ruleAttr(xml, 'rsc-role'))) refuse(`rsc_ticket ${id} for role ${ruleAttr(xml, 'rsc-role')}`);
  const rsc = ruleAttr(xml, 'rsc');
  if (rsc !== undefined) out.push(dependency(id, rsc, ruleAttr(xml, 'rsc-role')));
  return out;
}

/**
 * What a dependency does, given the ticket's state, whether the resource is active and (for
 * rsc-role=Promoted) whether it is promoted now.
 */
export function ticketEffect(
  dep: TicketDependency,
  state: { granted: boolean; standby: boolean } | undefined,
  active: boolean,
  promoted = false,
): TicketEffect {
  const granted = state?.granted ?? false;
  const standby = state?.standby ?? false;
  if (granted && !standby) return 'none';
  const roleOnly = dep.promotedRole === true;
  if (!granted && active) {
    if (dep.lossPolicy === 'stop') return 'ban';
    if (dep.lossPolicy === 'demote') return roleOnly ? 'none' : 'ban';
    if (roleOnly && !promoted) return 'none';
    return dep.lossPolicy === 'fence' ? 'fence' : 'freeze';
  }
  return roleOnly && dep.lossPolicy !== 'stop' ? 'none' : 'ban';
}
