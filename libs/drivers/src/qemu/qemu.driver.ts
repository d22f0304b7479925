import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InstanceState } from '@nephele/contracts';
import type {
  CloudDriver,
  CreateInstanceRequest,
  DriverCapabilities,
  ProviderHardwareProfile,
  ProviderImage,
  ProviderInstance,
  ProviderRealm,
} from '../cloud-driver.types';
import { ConfigReader } from '../config.util';
import {
  NotFoundError,
  PermanentDriverError,
  QuotaExceededError,
  TransientDriverError,
} from '../driver.errors';
import { KeyedMutex } from '../mutex.util';
import { noCloudMetaData, qemuCommandLine, QemuLaunchSpec } from './qemu-command';
import { QmpClient } from './qmp.client';

const run = promisify(execFile);

// Note [QEMU instances]
// An instance of the `qemu` provider is a `qemu-system-x86_64` process on this machine (KVM when
// /dev/kvm can be opened, TCG software emulation otherwise), daemonized so it outlives the
// gateway. Everything is on disk under the state dir, so a driver in a new process finds what an
// earlier one launched:
//   <stateDir>/instances/<id>/instance.json  the record (written atomically: temp file + rename)
//   <stateDir>/instances/<id>/disk.qcow2     copy-on-write overlay of the image's base disk
//   <stateDir>/instances/<id>/seed.iso       NoCloud seed (volume id `cidata`: user-data, meta-data)
//   <stateDir>/instances/<id>/qmp.sock       the QMP monitor (in the temp dir when the path is too
//                                            long for a unix socket); qemu.pid; console.log
//   <stateDir>/keys/<sha256(key)>            which instance an idempotency key made (kept after
//                                            destroy, so the key never makes a second one)
// The process is alive (pid file, and /proc/<pid>/cmdline names this instance's disk, so a reused
// pid is not ours) → QMP `query-status` says running or paused; no process → stopped. stop asks
// the guest to power off (ACPI, QMP `system_powerdown`) and `quit`s it after the grace period;
// start launches QEMU again on the same overlay (cloud-init does not run twice: same
// instance-id); reboot is QMP `system_reset`; destroy `quit`s and removes the directory.
// Networking is QEMU's user mode: the guest reaches the host's loopback at 10.0.2.2, which is
// why the gateway rewrites loopback URLs in the agent's user data (capability guestHostAddress).
// Quotas: the vCPUs and memory of every instance that is not destroyed count against maxVcpus and
// maxMemoryMb.

/** One bootable image: a base disk, and a kernel when it boots directly. */
export interface QemuImageDefinition {
  name: string;
  disk: string;
  format: 'qcow2' | 'raw';
  kernel?: string;
  initrd?: string;
  append?: string;
}

export interface QemuDriverConfig {
  providerId: string;
  stateDir: string;
  binary: string;
  accel: 'auto' | 'kvm' | 'tcg';
  /** `-cpu` model; default by accelerator (qemu-command.ts). */
  cpu?: string;
  images: Record<string, QemuImageDefinition>;
  profiles: ProviderHardwareProfile[];
  maxVcpus: number;
  maxMemoryMb: number;
  /** How long stop waits for the guest to power off before QMP `quit`. */
  stopGraceMs: number;
}

interface QemuInstanceRecord {
  version: 1;
  id: string;
  name: string;
  image: string;
  profile: string;
  vcpus: number;
  memoryMb: number;
  metadata: Record<string, string>;
  idempotencyKey: string;
  createdAt: string;
  updatedAt: string;
  /** What this driver last did to it, for the transitional states. */
  observed: InstanceState;
}

const DEFAULT_PROFILES: ProviderHardwareProfile[] = [
  { id: 'qemu-small', name: 'qemu-small', cpu: 1, memoryMb: 1024, storageGb: 3, arch: 'x86_64' },
  { id: 'qemu-medium', name: 'qemu-medium', cpu: 2, memoryMb: 2048, storageGb: 3, arch: 'x86_64' },
];

function readImageDir(dir: string): Omit<QemuImageDefinition, 'name'> & { name?: string } {
  // image.json as `npm run images:build` writes it; paths relative to the directory.
  const j = JSON.parse(readFileSync(path.join(dir, 'image.json'), 'utf8')) as Record<string, string>;
  const abs = (p?: string) => (p ? path.resolve(dir, p) : undefined);
  return {
    name: j['name'],
    disk: abs(j['disk'])!,
    format: j['format'] === 'raw' ? 'raw' : 'qcow2',
    kernel: abs(j['kernel']),
    initrd: abs(j['initrd']),
    append: j['append'],
  };
}

/**
 * Reads a `qemu` provider config: `{ images: { <id>: { dir } | { disk, format?, kernel?, initrd?,
 * append?, name? } }, profiles?, maxVcpus?, maxMemoryMb?, accel?: auto|kvm|tcg, cpu?, binary?,
 * stateDir?, stopGraceMs? }`. The default state dir is `<dataDir>/qemu-driver/<providerId>`.
 */
export function parseQemuDriverConfig(
  config: unknown,
  defaults: { providerId?: string; dataDir: string },
): QemuDriverConfig {
  const r = new ConfigReader('qemu driver config', config);
  const providerId = r.string('providerId', defaults.providerId ?? 'qemu');
  if (!/^[A-Za-z0-9._-]+$/.test(providerId))
    r.problem('providerId may only contain letters, digits, ".", "_" and "-"');
  const accel = r.string('accel', 'auto');
  if (!['auto', 'kvm', 'tcg'].includes(accel)) r.problem('accel must be auto, kvm or tcg');
  const images: Record<string, QemuImageDefinition> = {};
  const raw = r.raw('images');
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    r.problem('images must be an object of image definitions');
  } else {
    for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
      const d = (v ?? {}) as Record<string, unknown>;
      try {
        const base = typeof d['dir'] === 'string' ? readImageDir(d['dir']) : {};
        const def = { ...base, ...d } as Partial<QemuImageDefinition>;
        if (typeof def.disk !== 'string' || !def.disk) throw new Error('needs disk (or dir with image.json)');
        images[id] = {
          name: typeof def.name === 'string' ? def.name : id,
          disk: path.resolve(def.disk),
          format: def.format === 'raw' ? 'raw' : 'qcow2',
          ...(def.kernel ? { kernel: path.resolve(def.kernel) } : {}),
          ...(def.initrd ? { initrd: path.resolve(def.initrd) } : {}),
          ...(def.append ? { append: def.append } : {}),
        };
      } catch (e) {
        r.problem(`images.${id}: ${(e as Error).message}`);
      }
    }
  }
  let profiles = DEFAULT_PROFILES;
  const rawProfiles = r.raw('profiles');
  if (rawProfiles !== undefined) {
    if (!Array.isArray(rawProfiles)) r.problem('profiles must be an array');
    else
      profiles = rawProfiles.map((p: Record<string, unknown>, i) => {
        const ok =
          typeof p['id'] === 'string' &&
          Number.isInteger(p['cpu']) &&
          (p['cpu'] as number) >= 1 &&
          Number.isInteger(p['memoryMb']) &&
          (p['memoryMb'] as number) >= 128;
        if (!ok) r.problem(`profiles[${i}] needs id, cpu >= 1 and memoryMb >= 128`);
        return {
          id: String(p['id']),
          name: typeof p['name'] === 'string' ? p['name'] : String(p['id']),
          cpu: Number(p['cpu']),
          memoryMb: Number(p['memoryMb']),
          storageGb: Number(p['storageGb'] ?? 3),
          arch: 'x86_64',
        };
      });
  }
  const result: QemuDriverConfig = {
    providerId,
    stateDir: r.string('stateDir', path.join(defaults.dataDir, 'qemu-driver', providerId)),
    binary: r.string('binary', 'qemu-system-x86_64'),
    accel: accel as QemuDriverConfig['accel'],
    ...(r.has('cpu') ? { cpu: r.string('cpu') } : {}),
    images,
    profiles,
    maxVcpus: r.number('maxVcpus', cpus().length, { min: 1, integer: true }),
    maxMemoryMb: r.number('maxMemoryMb', Math.floor(totalmem() / 1024 / 1024 / 2), {
      min: 128,
      integer: true,
    }),
    stopGraceMs: r.number('stopGraceMs', 30_000, { min: 0, integer: true }),
  };
  r.done();
  return result;
}

/** KVM when /dev/kvm opens for reading and writing. */
export function kvmAvailable(device = '/dev/kvm'): boolean {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `qemu` cloud driver (Note [QEMU instances]). */
export class QemuDriver implements CloudDriver {
  readonly kind = 'qemu';
  readonly capabilities: DriverCapabilities = {
    listSince: false,
    realms: false,
    startStop: true,
    reboot: true,
    maxListPage: 1000,
    cloudInit: true,
    guestHostAddress: '10.0.2.2',
  };
  private readonly mutex = new KeyedMutex();
  readonly accel: 'kvm' | 'tcg';

  constructor(readonly config: QemuDriverConfig) {
    this.accel = config.accel === 'auto' ? (kvmAvailable() ? 'kvm' : 'tcg') : config.accel;
  }

  private dir(id: string): string {
    return path.join(this.config.stateDir, 'instances', id);
  }

  async listImages(): Promise<ProviderImage[]> {
    return Object.entries(this.config.images).map(([id, d]) => ({
      id,
      name: d.name,
      status: existsSync(d.disk) ? 'active' : 'missing',
      arch: 'x86_64',
    }));
  }

  async listHardwareProfiles(): Promise<ProviderHardwareProfile[]> {
    return this.config.profiles.map((p) => ({ ...p }));
  }

  async listRealms(): Promise<ProviderRealm[]> {
    return [{ id: 'qemu', name: 'qemu', available: true }];
  }

  async create(req: CreateInstanceRequest): Promise<ProviderInstance> {
    return this.mutex.run('create', async () => {
      const keyFile = path.join(this.config.stateDir, 'keys', sha256(req.idempotencyKey));
      const claimed = await readFile(keyFile, 'utf8').catch(() => undefined);
      if (claimed) return this.claimedInstance(claimed, req.idempotencyKey);
      const { image, profile } = await this.admit(req);

      const id = randomUUID();
      const dir = this.dir(id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const now = new Date().toISOString();
      const rec: QemuInstanceRecord = {
        version: 1,
        id,
        name: req.name,
        image: req.image,
        profile: profile.id,
        vcpus: profile.cpu,
        memoryMb: profile.memoryMb,
        metadata: { ...(req.metadata ?? {}) },
        idempotencyKey: req.idempotencyKey,
        createdAt: now,
        updatedAt: now,
        observed: 'pending',
      };
      try {
        await run('qemu-img', [
          'create',
          '-q',
          '-f',
          'qcow2',
          '-F',
          image.format,
          '-b',
          image.disk,
          path.join(dir, 'disk.qcow2'),
        ]);
        await writeSeed(dir, id, req.name, req.userData ?? '');
        await this.save(rec);
        await mkdir(path.dirname(keyFile), { recursive: true });
        await writeFile(
          keyFile,
          JSON.stringify({ id, name: req.name, image: req.image, profile: profile.id, createdAt: now }),
        );
        await this.launch(rec);
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        await rm(keyFile, { force: true });
        throw new TransientDriverError(`qemu launch failed: ${(e as Error).message}`, { cause: e });
      }
      return (await this.get(id))!;
    });
  }

  /** What an idempotency key already made: the instance, or a tombstone once it is gone. */
  private async claimedInstance(claimed: string, idempotencyKey: string): Promise<ProviderInstance> {
    const id = (JSON.parse(claimed) as { id: string }).id;
    const existing = await this.get(id);
    if (existing) return existing;
    const t = JSON.parse(claimed) as {
      id: string;
      name: string;
      image: string;
      profile: string;
      createdAt: string;
    };
    return {
      id: t.id,
      name: t.name,
      state: 'terminated',
      addresses: [],
      image: t.image,
      profile: t.profile,
      createdAt: t.createdAt,
      updatedAt: t.createdAt,
      metadata: {},
      idempotencyKey: idempotencyKey,
    };
  }

  /** The image and profile of a create, refused when unknown or over the quota. */
  private async admit(req: CreateInstanceRequest) {
    const image = this.config.images[req.image];
    if (!image) throw new PermanentDriverError(`unknown image ${req.image}`, { code: 'ImageNotFound' });
    if (!existsSync(image.disk))
      throw new PermanentDriverError(
        `image ${req.image}: base disk ${image.disk} is missing (npm run images:build)`,
        {
          code: 'ImageNotFound',
        },
      );
    const profile = this.config.profiles.find((p) => p.id === req.profile || p.name === req.profile);
    if (!profile)
      throw new PermanentDriverError(`unknown hardware profile ${req.profile}`, { code: 'FlavorNotFound' });
    const used = (await this.records()).reduce(
      (a, r) => ({ cpu: a.cpu + r.vcpus, mem: a.mem + r.memoryMb }),
      { cpu: 0, mem: 0 },
    );
    if (used.cpu + profile.cpu > this.config.maxVcpus)
      throw new QuotaExceededError(
        `vCPU quota: ${used.cpu} of ${this.config.maxVcpus} in use, ${profile.cpu} asked`,
      );
    if (used.mem + profile.memoryMb > this.config.maxMemoryMb)
      throw new QuotaExceededError(
        `memory quota: ${used.mem} of ${this.config.maxMemoryMb} MiB in use, ${profile.memoryMb} asked`,
      );
    return { image, profile };
  }

  /** The QEMU argv for an instance (exposed for tests and `ps` readers). */
  launchSpec(rec: Pick<QemuInstanceRecord, 'id' | 'name' | 'image' | 'vcpus' | 'memoryMb'>): QemuLaunchSpec {
    const dir = this.dir(rec.id);
    const image = this.config.images[rec.image];
    return {
      binary: this.config.binary,
      name: `${rec.name}-${rec.id.slice(0, 8)}`,
      accel: this.accel,
      ...(this.config.cpu ? { cpu: this.config.cpu } : {}),
      vcpus: rec.vcpus,
      memoryMb: rec.memoryMb,
      disk: path.join(dir, 'disk.qcow2'),
      seed: path.join(dir, 'seed.iso'),
      ...(image?.kernel
        ? { kernel: { path: image.kernel, initrd: image.initrd, append: image.append } }
        : {}),
      qmpSocket: this.qmpPath(rec.id),
      consoleLog: path.join(dir, 'console.log'),
      pidFile: path.join(dir, 'qemu.pid'),
    };
  }

  private async launch(rec: QemuInstanceRecord): Promise<void> {
    const [bin, ...args] = qemuCommandLine(this.launchSpec(rec));
    await rm(this.qmpPath(rec.id), { force: true });
    // -daemonize: QEMU forks, writes the pid file and exits 0 once the VM is set up.
    await run(bin, args, { timeout: 60_000 });
  }

  /**
   * The QMP socket: in the instance's directory when the path fits a unix socket address (107
   * bytes), else a short name in the temp dir derived from that directory.
   */
  qmpPath(id: string): string {
    const inDir = path.join(this.dir(id), 'qmp.sock');
    if (Buffer.byteLength(inDir) <= 100) return inDir;
    return path.join(tmpdir(), `nephele-qmp-${sha256(this.dir(id)).slice(0, 24)}.sock`);
  }

  private pid(id: string): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(this.dir(id), 'qemu.pid'), 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 0) return undefined;
      // see Note [QEMU instances]: the pid is ours only if its command line names our disk.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes(path.join(this.dir(id), 'disk.qcow2')) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private async qmp<T>(id: string, command: string, args?: Record<string, unknown>): Promise<T> {
    const c = await QmpClient.connect(this.qmpPath(id));
    try {
      return await c.execute<T>(command, args);
    } finally {
      c.close();
    }
  }

  private async waitExit(id: string, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (this.pid(id) !== undefined) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  private async halt(id: string, graceMs: number): Promise<void> {
    if (this.pid(id) === undefined) return;
    if (graceMs > 0) {
      await this.qmp(id, 'system_powerdown').catch(() => undefined);
      if (await this.waitExit(id, graceMs)) return;
    }
    await this.qmp(id, 'quit').catch(() => undefined);
    if (await this.waitExit(id, 5_000)) return;
    const pid = this.pid(id);
    if (pid) process.kill(pid, 'SIGKILL');
    await this.waitExit(id, 5_000);
  }

  async destroy(id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const rec = await this.record(id);
      if (!rec) throw new NotFoundError(`qemu instance ${id} not found`);
      await this.save({ ...rec, observed: 'terminating', updatedAt: new Date().toISOString() });
      await this.halt(id, 0);
      await rm(this.qmpPath(id), { force: true });
      await rm(this.dir(id), { recursive: true, force: true });
    });
  }

  async start(id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const rec = await this.record(id);
      if (!rec) throw new NotFoundError(`qemu instance ${id} not found`);
      if (this.pid(id) !== undefined) return;
      await this.launch(rec);
      await this.save({ ...rec, observed: 'running', updatedAt: new Date().toISOString() });
    });
  }

  async stop(id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const rec = await this.record(id);
      if (!rec) throw new NotFoundError(`qemu instance ${id} not found`);
      await this.save({ ...rec, observed: 'stopping', updatedAt: new Date().toISOString() });
      await this.halt(id, this.config.stopGraceMs);
      await this.save({ ...rec, observed: 'stopped', updatedAt: new Date().toISOString() });
    });
  }

  async reboot(id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const rec = await this.record(id);
      if (!rec) throw new NotFoundError(`qemu instance ${id} not found`);
      if (this.pid(id) === undefined) {
        await this.launch(rec);
        return;
      }
      await this.qmp(id, 'system_reset');
    });
  }

  async get(id: string): Promise<ProviderInstance | null> {
    const rec = await this.record(id);
    return rec ? this.toInstance(rec) : null;
  }

  async list(): Promise<ProviderInstance[]> {
    return Promise.all((await this.records()).map((r) => this.toInstance(r)));
  }

  async close(): Promise<void> {
    // Nothing held between calls: every QMP connection is per operation.
  }

  private async toInstance(rec: QemuInstanceRecord): Promise<ProviderInstance> {
    let state: InstanceState;
    if (rec.observed === 'terminating' || rec.observed === 'stopping') state = rec.observed;
    else if (this.pid(rec.id) === undefined) state = 'stopped';
    else {
      const s = await this.qmp<{ status: string }>(rec.id, 'query-status').catch(() => ({
        status: 'unknown',
      }));
      state = s.status === 'running' ? 'running' : s.status === 'shutdown' ? 'stopping' : 'pending';
    }
    if (state !== rec.observed && !['terminating', 'stopping'].includes(rec.observed)) {
      rec = { ...rec, observed: state, updatedAt: new Date().toISOString() };
      await this.save(rec).catch(() => undefined);
    }
    return {
      id: rec.id,
      name: rec.name,
      state,
      // User-mode networking: the guest's address is the same in every VM and not reachable
      // from the host; it is reported for what it is.
      addresses: ['10.0.2.15'],
      image: rec.image,
      profile: rec.profile,
      realm: 'qemu',
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      metadata: { ...rec.metadata },
      idempotencyKey: rec.idempotencyKey,
    };
  }

  private async record(id: string): Promise<QemuInstanceRecord | null> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    try {
      return JSON.parse(
        await readFile(path.join(this.dir(id), 'instance.json'), 'utf8'),
      ) as QemuInstanceRecord;
    } catch {
      return null;
    }
  }

  private async records(): Promise<QemuInstanceRecord[]> {
    const ids = await readdir(path.join(this.config.stateDir, 'instances')).catch(() => [] as string[]);
    const recs = await Promise.all(ids.map((id) => this.record(id)));
    return recs.filter((r): r is QemuInstanceRecord => r !== null);
  }

  private async save(rec: QemuInstanceRecord): Promise<void> {
    const f = path.join(this.dir(rec.id), 'instance.json');
    const tmp = `${f}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(rec, null, 2));
    await rename(tmp, f);
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The NoCloud seed: an ISO 9660 volume `cidata` with user-data and meta-data. */
async function writeSeed(dir: string, id: string, name: string, userData: string): Promise<void> {
  const src = path.join(dir, 'seed');
  await mkdir(src, { recursive: true });
  await writeFile(path.join(src, 'user-data'), userData, { mode: 0o600 });
  await writeFile(path.join(src, 'meta-data'), noCloudMetaData(id, name));
  const out = path.join(dir, 'seed.iso');
  const args = ['-output', out, '-volid', 'cidata', '-joliet', '-rock', '-quiet', src];
  try {
    await run('genisoimage', args);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await run('xorriso', ['-as', 'mkisofs', ...args]);
  }
  // The seed carries the assembly's credential: readable by this user only.
  await chmod(out, 0o600);
  await rm(src, { recursive: true, force: true });
}
