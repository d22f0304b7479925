// vm (issue 21): boot → first agent heartbeat of one assembly on the `qemu` driver (real VM, TCG
// unless NEPHELE_VM_ACCEL says otherwise), beside the same on the `local` driver (agent as a host
// process) in the same all-in-one run. Deployable created → assembly "online" (the DPE's first
// heartbeat from its agent), through the public API. Run only when asked: `npm run bench -- vm`
// (minutes under TCG). Needs the image at NEPHELE_VM_IMAGE_DIR (`npm run images:build`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NepheleClient } from '@nephele/client';
import { type ServiceProcess, waitFor } from '@nephele/testing';
import {
  killQemus,
  setupQemuPool,
  startVmAllInOne,
  vmImageDir,
  vmImagePresent,
} from '../apps/iaas-gateway/test/vm-harness';
import type { BenchRow } from './bench.types';

interface View {
  id: string;
  assemblies: { name: string; state: string }[];
}

function manifest(name: string, pool: string, image: string, profile: string): string {
  return `
name: ${name}
pool: ${pool}
monitor: { heartbeatInterval: 2s, missedHeartbeats: 10 }
assemblies:
  - name: a1
    image: ${image}
    hardwareProfile: ${profile}
    services:
      - name: idle
        class: process
        command: ["sleep", "100000"]
`;
}

/** Seconds from deployable create to its assembly's first heartbeat ("online"). */
async function bootToHeartbeat(
  api: NepheleClient,
  project: string,
  yaml: string,
  intervalMs: number,
): Promise<number> {
  const t0 = Date.now();
  const r = await api.request<View>('POST', `/v1/deployables?project=${project}`, yaml, {
    'content-type': 'application/yaml',
  });
  if (r.status !== 201) throw new Error(`deployable create: ${r.status} ${JSON.stringify(r.body)}`);
  await waitFor(
    async () => {
      const v = await api.get<View>(`/v1/deployables/${r.body.id}`);
      return v.assemblies[0]?.state === 'online' ? v : undefined;
    },
    { timeoutMs: 35 * 60_000, intervalMs, what: `${r.body.id} online` },
  );
  const s = (Date.now() - t0) / 1000;
  await api.delete(`/v1/deployables/${r.body.id}`).catch(() => undefined);
  return s;
}

export default async function (): Promise<BenchRow[]> {
  const imageDir = vmImageDir();
  if (!vmImagePresent(imageDir)) {
    console.error(
      `vm: no image at ${imageDir} — build it with \`npm run images:build\` (or point ` +
        'NEPHELE_VM_IMAGE_DIR at one); skipped',
    );
    return [];
  }
  const accel = process.env.NEPHELE_VM_ACCEL ?? 'tcg';
  const dir = await mkdtemp(path.join(tmpdir(), 'vm-bench-'));
  let nephele: ServiceProcess | undefined;
  try {
    const started = await startVmAllInOne(dir);
    nephele = started.nephele;
    const api = started.api;
    const project = await setupQemuPool(api, imageDir);
    // The seeded default pool is on the `local` driver; its "debian-12" image runs the agent.
    const local = await bootToHeartbeat(
      api,
      project,
      manifest('bench-local', 'default', 'debian-12', 'small'),
      100,
    );
    console.error(`    local: ${local.toFixed(1)} s`);
    const qemu = await bootToHeartbeat(
      api,
      project,
      manifest('bench-qemu', 'vm', 'debian-12-vm', 'vmsmall'),
      1000,
    );
    console.error(`    qemu (${accel}): ${qemu.toFixed(0)} s`);
    return [
      {
        benchmark: 'vm',
        figure: `boot → first heartbeat, qemu driver (${accel}, 1 vCPU, 1 GiB)`,
        value: qemu,
        unit: 's',
        baseline: 'local driver',
        baselineValue: local,
        ratio: qemu / local,
      },
    ];
  } finally {
    await nephele?.kill('SIGTERM');
    killQemus(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
