// Shared by the vm profile (deployable.vm-spec.ts) and the `vm` benchmark (bench/vm.bench.ts):
// the all-in-one with the agent bundle served to cloud-init, and a `qemu` provider wired to a
// pool ("vm"), hardware profile ("vmsmall") and image ("debian-12-vm") of the default project.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { NepheleClient } from '@nephele/client';
import { buildApps, freePort, ServiceProcess, WORKSPACE_ROOT } from '@nephele/testing';

const run = promisify(execFile);

export const VM_TOKEN = 'vm-e2e-admin-token-0123456789abcdef0123';

/** NEPHELE_VM_IMAGE_DIR, default .nephele/images/debian-12 (an `npm run images:build` output). */
export function vmImageDir(): string {
  return path.resolve(WORKSPACE_ROOT, process.env.NEPHELE_VM_IMAGE_DIR ?? '.nephele/images/debian-12');
}

export function vmImagePresent(dir = vmImageDir()): boolean {
  return existsSync(path.join(dir, 'image.json'));
}

export function findFiles(root: string, name: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => path.join(e.parentPath, e.name));
}

/** The qemu driver's state dir of an all-in-one started by startVmAllInOne(dir). */
export const qemuStateDir = (dir: string) => path.join(dir, 'data', 'qemu-driver');

/** Kills whatever QEMU is still running under the all-in-one's state dir (all of it is ours). */
export function killQemus(dir: string): void {
  for (const pidFile of findFiles(qemuStateDir(dir), 'qemu.pid')) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Builds and starts the all-in-one (seeded default project) with the agent bundle under `dir`. */
export async function startVmAllInOne(dir: string): Promise<{ nephele: ServiceProcess; api: NepheleClient }> {
  buildApps('nephele');
  const bundle = path.join(dir, 'nephele-agent.js');
  await run(process.execPath, [path.join(WORKSPACE_ROOT, 'tools/images/agent-bundle.mjs'), bundle]);
  const port = await freePort();
  const nephele = await ServiceProcess.start(
    'nephele',
    {
      PORT: String(port),
      NEPHELE_DATA_DIR: path.join(dir, 'data'),
      NEPHELE_BOOTSTRAP_TOKEN: VM_TOKEN,
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
  return { nephele, api: new NepheleClient({ url: nephele.url, token: VM_TOKEN }) };
}

/**
 * Registers a `qemu` provider (TCG unless NEPHELE_VM_ACCEL says otherwise: nested KVM on this
 * project's machines opens but hangs) and the pool "vm", hardware profile "vmsmall" and image
 * "debian-12-vm" that reach it. Returns the default project's id.
 */
export async function setupQemuPool(api: NepheleClient, imageDir: string): Promise<string> {
  const projects = await api.all<{ id: string; name: string }>('/v1/projects');
  const project = projects.find((p) => p.name === 'default')!.id;
  const provider = await api.post<{ id: string }>('/v1/providers', {
    name: 'qemu-vm',
    kind: 'qemu',
    options: {
      images: { 'debian-12': { dir: imageDir } },
      profiles: [{ id: 'vm-small', cpu: 1, memoryMb: 1024 }],
      accel: process.env.NEPHELE_VM_ACCEL ?? 'tcg',
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
  return project;
}
