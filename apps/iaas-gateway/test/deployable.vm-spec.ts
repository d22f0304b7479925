import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NepheleClient } from '@nephele/client';
import { buildApps, freePort, ServiceProcess, waitFor, WORKSPACE_ROOT } from '@nephele/testing';

const run = promisify(execFile);

// The vm profile (npm run test:vm), from the user's side: a deployable on the `qemu` driver of
// the all-in-one. One VM boots (the image is built first when NEPHELE_VM_IMAGE_DIR, default
// .nephele/images/debian-12, has none); cloud-init installs the agent bundle from the gateway's
// /v1/agent-bundle (one-time token, sha256) and starts it; the agent reaches the edge on the host
// through user-mode networking; the DPE starts an OCF Dummy service inside the guest; a second
// service kills it once from inside (removes its state file) and the DPE restarts it; destroying
// the deployable stops the VM. Figures are printed, not asserted.

const TOKEN = 'vm-e2e-admin-token-0123456789abcdef0123';
const imageDir = path.resolve(
  WORKSPACE_ROOT,
  process.env.NEPHELE_VM_IMAGE_DIR ?? '.nephele/images/debian-12',
);

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
    if (!existsSync(path.join(imageDir, 'image.json'))) {
      const t0 = Date.now();
      await run('bash', [path.join(WORKSPACE_ROOT, 'tools/images/build-debian-image.sh'), imageDir], {
        maxBuffer: 64 * 1024 * 1024,
      });
      log(`image built in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    buildApps('nephele');
    const bundle = path.join(dir, 'nephele-agent.js');
    await run(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/images/agent-bundle.mjs'), bundle]);
    const port = await freePort();
    nephele = await ServiceProcess.start(
      'nephele',
      {
        PORT: String(port),
        NEPHELE_DATA_DIR: path.join(dir, 'data'),
        NEPHELE_BOOTSTRAP_TOKEN: TOKEN,
        NEPHELE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
        NEPHELE_EDGE_PORT: String(await freePort()),
        NEPHELE_EDGE_HOST: '127.0.0.1',
        NEPHELE_AGENT_BUNDLE_URL: `http://127.0.0.1:${port}`,
        NEPHELE_AGENT_BUNDLE: bundle,
        // A VM under software emulation takes minutes to its first heartbeat.
        DPE_BOOT_TIMEOUT_MS: String(30 * 60_000),
        LOG_LEVEL: 'warn',
      },
      { readyTimeoutMs: 300_000 },
    );
    api = new NepheleClient({ url: nephele.url, token: TOKEN });
  }, 20 * 60_000);

  afterAll(async () => {
    if (deployableId) await api.delete(`/v1/deployables/${deployableId}`).catch(() => undefined);
    await nephele?.kill('SIGTERM');
    // Whatever is still running under the state dir is ours.
    const inst = path.join(dir, 'data', 'qemu-driver');
    for (const pidFile of findFiles(inst, 'qemu.pid')) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  function findFiles(root: string, name: string): string[] {
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name === name)
      .map((e) => path.join(e.parentPath, e.name));
  }

  const view = (id: string) => api.get<View>(`/v1/deployables/${id}`);

  it('boots a VM, runs an OCF service in it, heals it, and destroy stops the VM', async () => {
    const projects = await api.all<{ id: string; name: string }>('/v1/projects');
    const project = projects.find((p) => p.name === 'default')!.id;
    const provider = await api.post<{ id: string }>('/v1/providers', {
      name: 'qemu-vm',
      kind: 'qemu',
      options: {
        images: { 'debian-12': { dir: imageDir } },
        profiles: [{ id: 'vm-small', cpu: 1, memoryMb: 1024 }],
        accel: process.env.NEPHELE_VM_ACCEL ?? 'tcg', // see qemu.vm-spec.ts
        stopGraceMs: 20_000,
      },
    });
    await api.post(`/v1/providers/${provider.id}/profiles`, {
      name: 'vm-small',
      cpu: 1,
      memoryMb: 1024,
      storageGb: 3,
      arch: 'x86_64',
      costPerHour: 0,
    });
    const account = await api.post<{ id: string }>('/v1/provider-accounts', {
      project,
      providerId: provider.id,
      name: 'qemu',
    });
    const family = await api.post<{ id: string }>('/v1/pool-families', {
      project,
      name: 'vm',
      accountIds: [account.id],
    });
    await api.post('/v1/pools', { project, name: 'vm', familyId: family.id });
    await api.post('/v1/hardware-profiles', {
      project,
      name: 'vmsmall',
      cpu: { max: 1 },
      memoryMb: { max: 1024 },
    });
    const image = await api.post<{ id: string }>('/v1/images', {
      project,
      name: 'debian-12-vm',
      os: 'linux',
      arch: 'x86_64',
    });
    await api.post('/v1/image-mappings', {
      project,
      imageId: image.id,
      accountId: account.id,
      providerImageId: 'debian-12',
    });

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
      const f = findFiles(path.join(dir, 'data', 'qemu-driver'), 'console.log')[0];
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
    expect(findFiles(path.join(dir, 'data', 'qemu-driver'), 'qemu.pid')).toHaveLength(1);

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
    const pidFile = findFiles(path.join(dir, 'data', 'qemu-driver'), 'qemu.pid')[0];
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
