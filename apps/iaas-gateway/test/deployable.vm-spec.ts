import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NepheleClient } from '@nephele/client';
import { type ServiceProcess, waitFor, WORKSPACE_ROOT } from '@nephele/testing';
import {
  findFiles,
  killQemus,
  qemuStateDir,
  setupQemuPool,
  startVmAllInOne,
  vmImageDir,
  vmImagePresent,
} from './vm-harness';

const run = promisify(execFile);

// The vm profile (npm run test:vm), from the user's side: a deployable on the `qemu` driver of
// the all-in-one. One VM boots (the image is built first when NEPHELE_VM_IMAGE_DIR, default
// .nephele/images/debian-12, has none); cloud-init installs the agent bundle from the gateway's
// /v1/agent-bundle (one-time token, sha256) and starts it; the agent reaches the edge on the host
// through user-mode networking; the DPE starts an OCF Dummy service inside the guest; a second
// service kills it once from inside (removes its state file) and the DPE restarts it; destroying
// the deployable stops the VM. Figures are printed, not asserted.

const imageDir = vmImageDir();

interface View {
  id: string;
  status: string;
  assemblies: { name: string; state: string; services: { name: string; state: string }[] }[];
}

function log(line: string): void {
  process.stdout.write(`[vm] ${line}\n`);
}

describe('a deployable on the qemu driver (all-in-one)', () => {
  let dir: string;
  let nephele: ServiceProcess;
  let api: NepheleClient;
  let deployableId: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vm-deployable-'));
    if (!vmImagePresent(imageDir)) {
      const t0 = Date.now();
      await run('bash', [path.join(WORKSPACE_ROOT, 'tools/images/build-debian-image.sh'), imageDir], {
        maxBuffer: 64 * 1024 * 1024,
      });
      log(`image built in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    ({ nephele, api } = await startVmAllInOne(dir));
  }, 20 * 60_000);

  afterAll(async () => {
    if (deployableId) await api.delete(`/v1/deployables/${deployableId}`).catch(() => undefined);
    await nephele?.kill('SIGTERM');
    killQemus(dir);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  const view = (id: string) => api.get<View>(`/v1/deployables/${id}`);

  it('boots a VM, runs an OCF service in it, heals it, and destroy stops the VM', async () => {
    const project = await setupQemuPool(api, imageDir);

    const yaml = `
name: vmshop
pool: vm
monitor: { heartbeatInterval: 2s, missedHeartbeats: 10 }
assemblies:
  - name: db1
    image: debian-12-vm
    hardwareProfile: vmsmall
    services:
      - name: store
        class: ocf
        provider: heartbeat
        type: Dummy
        parameters: { state: /run/vmshop-store.state }
        monitor: { interval: 5s, timeout: 20s }
      - name: chaos
        class: process
        command: ["sh", "-c", "sleep 90; rm -f /run/vmshop-store.state; exec sleep 100000"]
        monitor: { interval: 10s, timeout: 20s }
`;
    const t0 = Date.now();
    const r = await api.request<View>('POST', `/v1/deployables?project=${project}`, yaml, {
      'content-type': 'application/yaml',
    });
    expect(r.status).toBe(201);
    deployableId = r.body.id;
    const id = r.body.id;
    const serviceState = (v: View, s: string) =>
      v.assemblies[0]?.services.find((x) => x.name === `db1/${s}`)?.state;
    const consoleTail = () => {
      const f = findFiles(qemuStateDir(dir), 'console.log')[0];
      return f ? readFileSync(f, 'utf8').slice(-2000) : '(no console yet)';
    };
    await waitFor(
      async () => {
        const v = await view(id);
        return serviceState(v, 'store') === 'running' ? v : undefined;
      },
      {
        timeoutMs: 35 * 60_000,
        intervalMs: 2000,
        what: `the OCF service running in the VM; console:\n${consoleTail()}`,
      },
    );
    log(`deployable create to OCF service running in the VM: ${Math.round((Date.now() - t0) / 1000)} s`);
    expect(findFiles(qemuStateDir(dir), 'qemu.pid')).toHaveLength(1);

    // The chaos service removes Dummy's state file 30 s after it starts: the monitor fails, the
    // DPE restarts the service in place.
    const restarted = await waitFor(
      async () => {
        const events = await api.all<{ type: string; data: Record<string, unknown> }>(
          `/v1/events?subject=${id}&type=nephele.service.failed`,
        );
        return events.length > 0 ? events : undefined;
      },
      { timeoutMs: 10 * 60_000, intervalMs: 2000, what: 'the OCF service failure event' },
    );
    expect(JSON.stringify(restarted[0].data)).toContain('store');
    await waitFor(
      async () => {
        const v = await view(id);
        return serviceState(v, 'store') === 'running' ? v : undefined;
      },
      { timeoutMs: 10 * 60_000, intervalMs: 2000, what: 'the OCF service running again' },
    );
    const pidFile = findFiles(qemuStateDir(dir), 'qemu.pid')[0];
    const pid = Number(readFileSync(pidFile, 'utf8'));

    await api.delete(`/v1/deployables/${id}`);
    deployableId = undefined;
    await waitFor(
      () => {
        const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
        return stat === '' || / Z /.test(stat);
      },
      { timeoutMs: 5 * 60_000, intervalMs: 1000, what: 'the VM stopped after destroy' },
    );
    log(`whole scenario: ${Math.round((Date.now() - t0) / 1000)} s`);
  });
});
