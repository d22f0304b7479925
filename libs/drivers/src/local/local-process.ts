import type { LocalInstanceRecord } from './local-store';
import { bootId, groupMembers, instanceMembers, ProcStat, readProcStat, signalGroup } from './proc.util';
import { TransientDriverError } from '../driver.errors';

// The processes of a local instance (see Note [Local instances] and Note [Pid reuse]).

const KILL_WAIT_MS = 5_000;
const POLL_MS = 25;

/** Whether the instance's leader is the very process recorded (not a reused pid). */
export function leaderAlive(rec: LocalInstanceRecord): boolean {
  const p = rec.process;
  if (!p || p.bootId !== bootId() || p.startTicks < 0) return false;
  const st = readProcStat(p.pid);
  return !!st && st.startTicks === p.startTicks && st.state !== 'Z';
}

/**
 * SIGTERM to the instance's processes, SIGKILL after the grace period, then waits until none is
 * left. Its processes are its process group plus every process carrying its NEPHELE_INSTANCE_ID
 * (children that made groups of their own, like an agent's services).
 */
export async function terminateInstance(rec: LocalInstanceRecord, graceMs: number): Promise<void> {
  const p = rec.process;
  if (!p || p.bootId !== bootId() || p.startTicks < 0) return;
  const members = () => {
    const all = new Map<number, ProcStat>();
    for (const m of [...groupMembers(p.pgid, p.startTicks), ...instanceMembers(rec.id, p.startTicks)])
      all.set(m.pid, m);
    return [...all.values()];
  };
  const signal = (sig: NodeJS.Signals) => {
    const groups = new Set(members().map((m) => m.pgrp));
    groups.add(p.pgid);
    for (const g of groups) signalGroup(g, sig);
  };
  if (members().length === 0) return;
  signal('SIGTERM');
  if (await waitGone(members, graceMs)) return;
  signal('SIGKILL');
  if (await waitGone(members, KILL_WAIT_MS)) return;
  const left = members().map((m) => m.pid);
  throw new TransientDriverError(
    `processes of instance ${rec.id} survived SIGKILL (pids ${left.join(', ')})`,
  );
}

async function waitGone(members: () => ProcStat[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (members().length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
