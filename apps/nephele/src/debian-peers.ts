import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';

/** An optional program of the host that some features need (a Debian package). */
export interface Peer {
  /** The Debian package that provides it. */
  pkg: string;
  /** What it enables, said plainly. */
  enables: string;
  present: () => boolean;
}

function onPath(program: string, envPath = process.env.PATH ?? ''): boolean {
  return envPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(path.join(dir, program), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export function optionalPeers(ocfRoot = process.env.NEPHELE_OCF_ROOT ?? '/usr/lib/ocf'): Peer[] {
  return [
    {
      pkg: 'resource-agents',
      enables: `OCF services (class: ocf, e.g. heartbeat:Dummy in the tour) — agents under ${ocfRoot}/resource.d`,
      present: () => existsSync(path.join(ocfRoot, 'resource.d', 'heartbeat')),
    },
    {
      pkg: 'python3',
      enables: "the tour's web service (python3 -m http.server) and the example appliance hello-web",
      present: () => onPath('python3'),
    },
  ];
}

/** Lines for the start-up banner naming the missing optional peers, or none when all are there. */
export function missingPeersLines(peers: Peer[] = optionalPeers()): string[] {
  const missing = peers.filter((p) => !p.present());
  if (!missing.length) return [];
  return [
    `  missing       optional Debian packages (sudo apt-get install ${missing.map((p) => p.pkg).join(' ')}):`,
    ...missing.map((p) => `                ${p.pkg}: ${p.enables}`),
  ];
}
