import { readdirSync, readFileSync } from 'node:fs';

// Linux /proc readers for the local driver. A pid alone is not an identity (pids are reused), so
// a process is named by (pid, start time in clock ticks since boot, boot id): see Note [Pid reuse]
// in local.driver.ts.

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T, … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks after boot (field 22 of /proc/<pid>/stat). */
  startTicks: number;
}

/** Parses /proc/<pid>/stat; null when the process does not exist. */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return parseProcStat(text);
}

/** The command name may contain spaces and parentheses, so fields are counted after the last ')'. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const startTicks = Number(rest[19]);
  if (!Number.isInteger(pid) || !Number.isFinite(startTicks)) return null;
  return { pid, state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), startTicks };
}

let cachedBootId: string | undefined;
/** Changes at every boot of the machine; a recorded pid from another boot is certainly gone. */
export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/**
 * Live (non-zombie) members of process group `pgid` started no earlier than `minStartTicks`
 * (older ones would belong to an earlier group that happened to get the same id).
 */
export function groupMembers(pgid: number, minStartTicks: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readProcStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.startTicks >= minStartTicks) out.push(st);
  }
  return out;
}

/** Sends `signal` to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * Processes that carry `NEPHELE_INSTANCE_ID=<id>` in their environment: the instance's whole tree,
 * including processes that left its process group or session (an agent starts each service in a
 * group of its own, and they outlive the agent when it is killed). Unreadable entries are skipped.
 */
export function instanceMembers(instanceId: string, minStartTicks: number): ProcStat[] {
  const needle = Buffer.from(`NEPHELE_INSTANCE_ID=${instanceId}\0`);
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    if (!(env.indexOf(needle) === 0 || env.indexOf(Buffer.concat([Buffer.from([0]), needle])) >= 0)) continue;
    const st = readProcStat(Number(name));
    if (st && st.state !== 'Z' && st.startTicks >= minStartTicks) out.push(st);
  }
  return out;
}
