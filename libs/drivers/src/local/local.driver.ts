import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import type { InstanceState } from '@nephele/contracts';
import type {
  CloudDriver,
  CreateInstanceRequest,
  DriverCapabilities,
  ListInstancesOptions,
  ProviderHardwareProfile,
  ProviderImage,
  ProviderInstance,
  ProviderRealm,
} from '../cloud-driver.types';
import { sinceMs } from '../cloud-driver.types';
import { ConfigReader } from '../config.util';
import { NotFoundError, PermanentDriverError, TransientDriverError } from '../driver.errors';
import { KeyedMutex } from '../mutex.util';
import { bootId, readProcStat } from './proc.util';
import { leaderAlive, terminateInstance } from './local-process';
import { KeyClaim, LocalInstanceRecord, LocalInstanceStore } from './local-store';

// Note [Local instances]
// An instance of the `local` provider is a process tree on this machine: the image's command,
// spawned detached (its own session, so its own process group whose id is the leader's pid).
// Everything the driver knows is on disk under the state dir, written atomically (temp file +
// rename), so a driver in a new process (a restarted gateway) lists, stops and destroys what an
// earlier one launched:
//   <stateDir>/instances/<id>/instance.json   the record (see LocalInstanceRecord)
//   <stateDir>/instances/<id>/output.log      the tree's stdout and stderr
//   <stateDir>/keys/<sha256(idempotency key)> which instance that key made (a hard link makes the
//                                              claim atomic across processes; kept after destroy
//                                              as a tombstone so the key never makes a second one)
// State: the leader alive → running; dead (exited, killed) → stopped, and the record stays until
// destroy. Transitional states (stopping, rebooting, terminating) exist while this driver is doing
// that to the instance. Destroy and stop signal the whole group (SIGTERM, SIGKILL after the grace
// period) and wait until no member is left.
//
// Note [Pid reuse]
// A recorded pid may belong to another process later (after the instance died, or after a reboot
// of the machine). The record therefore keeps the leader's start time (clock ticks since boot,
// from /proc/<pid>/stat) and the boot id: the leader is alive only if a process with that pid has
// that start time in this boot. Group members are only those started at or after the leader, so a
// reused group id never gets our signals.

/** How an image of the local provider is started. */
export interface LocalImageDefinition {
  /** argv: the program and its arguments (no shell unless you put one here). */
  command: string[];
  /** Working directory; default: the instance's own directory under the state dir. */
  cwd?: string;
  /** Extra environment for the instance. */
  env?: Record<string, string>;
  /** Display name (default: the image id). */
  name?: string;
}

export interface LocalDriverConfig {
  /** Names the state dir and is handed to instances as NEPHELE_PROVIDER_ID. */
  providerId: string;
  stateDir: string;
  images: Record<string, LocalImageDefinition>;
  /** How long stop/destroy wait after SIGTERM before SIGKILL. */
  stopGraceMs: number;
  /** Variables of the driver's own environment that instances inherit (nothing else leaks). */
  inheritEnv: string[];
  /** The address reported for every instance (unless `addressPerInstance`). */
  address: string;
  /**
   * Each instance gets its own loopback address 127.a.b.c (derived from its id; Linux answers on
   * all of 127.0.0.0/8), handed to it as NEPHELE_INSTANCE_ADDRESS: several instances can then
   * listen on the same port, and a load balancer checks each of them apart.
   */
  addressPerInstance: boolean;
}

const PROFILE_ID = 'local';
const REALM_ID = 'local';

/**
 * Reads a `local` provider config: `{ images: { <id>: { command, cwd?, env?, name? } }, stateDir?,
 * providerId?, stopGraceMs?, inheritEnv?, address?, addressPerInstance? }`. The default state dir is
 * `<dataDir>/local-driver/<providerId>`.
 */
export function parseLocalDriverConfig(
  config: unknown,
  defaults: { providerId?: string; dataDir: string },
): LocalDriverConfig {
  const r = new ConfigReader('local driver config', config);
  const providerId = r.string('providerId', defaults.providerId ?? 'local');
  if (!/^[A-Za-z0-9._-]+$/.test(providerId))
    r.problem('providerId may only contain letters, digits, ".", "_" and "-"');
  const images: Record<string, LocalImageDefinition> = {};
  const rawImages = r.raw('images');
  if (
    rawImages === undefined ||
    typeof rawImages !== 'object' ||
    rawImages === null ||
    Array.isArray(rawImages)
  ) {
    r.problem('images must be an object of image definitions');
  } else {
    for (const id of Object.keys(rawImages)) {
      const ir = new ConfigReader(`image ${id}`, (rawImages as Record<string, unknown>)[id]);
      const command = ir.stringArray('command');
      if (!command || command.length === 0)
        r.problem(`images.${id}.command must be a non-empty array of strings`);
      const cwd = ir.string('cwd');
      const env = ir.stringRecord('env');
      const name = ir.string('name');
      try {
        ir.done();
      } catch (e) {
        r.problem((e as Error).message);
      }
      if (command?.length) images[id] = { command, cwd, env, name };
    }
  }
  const out: LocalDriverConfig = {
    providerId,
    stateDir: path.resolve(r.string('stateDir', path.join(defaults.dataDir, 'local-driver', providerId))),
    images,
    stopGraceMs: r.number('stopGraceMs', 5_000, { min: 0 }),
    inheritEnv: r.stringArray('inheritEnv') ?? ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'USER'],
    address: r.string('address', '127.0.0.1'),
    addressPerInstance: r.boolean('addressPerInstance', false),
  };
  r.done();
  return out;
}

/** A loopback address of its own for an instance: 127.a.b.c with a in 1..254, c in 1..254. */
export function loopbackAddress(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return `127.${1 + (h[0]! % 254)}.${h[1]!}.${1 + (h[2]! % 254)}`;
}

/** Environment variable name for a metadata key: NEPHELE_META_<KEY, upper-cased, [^A-Z0-9_] → _>. */
export function metadataEnvName(key: string): string {
  return `NEPHELE_META_${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** The embedded default provider: each instance is a real process tree (see Note [Local instances]). */
export class LocalDriver implements CloudDriver {
  readonly kind = 'local';
  readonly capabilities: DriverCapabilities = {
    listSince: true,
    realms: false,
    startStop: true,
    reboot: true,
    maxListPage: Number.MAX_SAFE_INTEGER,
  };
  private readonly ops = new KeyedMutex();
  /** Transitional states of operations this driver is running right now. */
  private readonly busy = new Map<string, InstanceState>();
  private readonly store: LocalInstanceStore;

  constructor(readonly config: LocalDriverConfig) {
    this.store = new LocalInstanceStore(config.stateDir);
  }

  async listImages(): Promise<ProviderImage[]> {
    return Object.entries(this.config.images).map(([id, def]) => ({
      id,
      name: def.name ?? id,
      status: 'active',
    }));
  }

  async listHardwareProfiles(): Promise<ProviderHardwareProfile[]> {
    return [
      {
        id: PROFILE_ID,
        name: 'this machine',
        cpu: cpus().length,
        memoryMb: Math.floor(totalmem() / 2 ** 20),
        storageGb: 0,
        arch: process.arch === 'x64' ? 'x86_64' : process.arch,
      },
    ];
  }

  async listRealms(): Promise<ProviderRealm[]> {
    return [{ id: REALM_ID, name: 'this machine', available: true }];
  }

  /** The directory holding an instance's record and output log. */
  instanceDir(id: string): string {
    return this.store.instanceDir(id);
  }

  /** Where an instance's stdout and stderr go. */
  logPath(id: string): string {
    return this.store.logPath(id);
  }

  async create(req: CreateInstanceRequest): Promise<ProviderInstance> {
    const keyFile = this.store.keyFile(req.idempotencyKey);
    return this.ops.run(`key:${keyFile}`, async () => {
      const existing = this.store.readClaim(keyFile);
      if (existing) return this.claimedInstance(existing);

      const image = this.config.images[req.image];
      if (!image)
        throw new PermanentDriverError(
          `unknown image ${req.image} (local images: ${Object.keys(this.config.images).join(', ') || 'none'})`,
          { code: 'ImageNotFound' },
        );
      if (req.profile !== PROFILE_ID)
        throw new PermanentDriverError(
          `unknown hardware profile ${req.profile} (the local provider has "${PROFILE_ID}")`,
          { code: 'ProfileNotFound' },
        );
      if (req.realm !== undefined && req.realm !== REALM_ID)
        throw new PermanentDriverError(`unknown realm ${req.realm}`, { code: 'RealmNotFound' });

      const now = new Date().toISOString();
      const rec: LocalInstanceRecord = {
        version: 1,
        id: randomUUID(),
        name: req.name,
        image: req.image,
        profile: req.profile,
        realm: REALM_ID,
        metadata: { ...(req.metadata ?? {}) },
        userData: req.userData,
        idempotencyKey: req.idempotencyKey,
        createdAt: now,
        updatedAt: now,
        observed: 'pending',
      };
      if (this.config.addressPerInstance) rec.address = loopbackAddress(rec.id);
      mkdirSync(this.instanceDir(rec.id), { recursive: true });
      this.store.writeRecord(rec);
      // Claim the key only once the record exists, so whoever finds the claim finds the record.
      if (!this.store.claimKey(keyFile, { id: rec.id })) {
        this.store.removeInstance(rec.id);
        const other = this.store.readClaim(keyFile);
        if (!other)
          throw new TransientDriverError(`idempotency key claim for ${req.idempotencyKey} vanished`);
        return this.claimedInstance(other);
      }
      return this.ops.run(rec.id, async () => {
        try {
          await this.spawnInstance(rec, image);
        } catch (e) {
          this.store.removeInstance(rec.id);
          rmSync(keyFile, { force: true });
          throw e;
        }
        return this.toInstance(rec, 'running');
      });
    });
  }

  async destroy(id: string): Promise<void> {
    await this.ops.run(id, async () => {
      const rec = this.store.readRecord(id);
      if (!rec) throw new NotFoundError(`local instance ${id} not found`);
      this.busy.set(id, 'terminating');
      try {
        await terminateInstance(rec, this.config.stopGraceMs);
        const keyFile = this.store.keyFile(rec.idempotencyKey);
        const claim: KeyClaim = {
          id,
          tombstone: {
            name: rec.name,
            image: rec.image,
            profile: rec.profile,
            realm: rec.realm,
            metadata: rec.metadata,
            createdAt: rec.createdAt,
            destroyedAt: new Date().toISOString(),
          },
        };
        this.store.writeAtomic(keyFile, JSON.stringify(claim));
        this.store.removeInstance(id);
      } finally {
        this.busy.delete(id);
      }
    });
  }

  async start(id: string): Promise<void> {
    await this.ops.run(id, async () => {
      const rec = this.store.requireRecord(id);
      if (leaderAlive(rec)) return;
      const image = this.config.images[rec.image];
      if (!image)
        throw new PermanentDriverError(`image ${rec.image} of instance ${id} is no longer configured`);
      this.busy.set(id, 'pending');
      try {
        // Members left behind by a leader that died would otherwise run twice.
        await terminateInstance(rec, this.config.stopGraceMs);
        await this.spawnInstance(rec, image);
      } finally {
        this.busy.delete(id);
      }
    });
  }

  async stop(id: string): Promise<void> {
    await this.ops.run(id, async () => {
      const rec = this.store.requireRecord(id);
      this.busy.set(id, 'stopping');
      try {
        await terminateInstance(rec, this.config.stopGraceMs);
        this.markObserved(rec, 'stopped');
      } finally {
        this.busy.delete(id);
      }
    });
  }

  async reboot(id: string): Promise<void> {
    await this.ops.run(id, async () => {
      const rec = this.store.requireRecord(id);
      const image = this.config.images[rec.image];
      if (!image)
        throw new PermanentDriverError(`image ${rec.image} of instance ${id} is no longer configured`);
      this.busy.set(id, 'rebooting');
      try {
        await terminateInstance(rec, this.config.stopGraceMs);
        await this.spawnInstance(rec, image);
      } finally {
        this.busy.delete(id);
      }
    });
  }

  async get(id: string): Promise<ProviderInstance | null> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return null;
    const rec = this.store.readRecord(id);
    return rec ? this.observe(rec) : null;
  }

  async list(options: ListInstancesOptions = {}): Promise<ProviderInstance[]> {
    const since = sinceMs(options.since);
    const out: ProviderInstance[] = [];
    for (const id of this.store.ids()) {
      const rec = this.store.readRecord(id);
      if (!rec) continue;
      const inst = this.observe(rec);
      if (since === undefined || Date.parse(inst.updatedAt) >= since) out.push(inst);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async close(): Promise<void> {
    // Nothing to release: instances are detached and outlive the driver on purpose.
  }

  // --- processes -------------------------------------------------------------------------

  private async spawnInstance(rec: LocalInstanceRecord, image: LocalImageDefinition): Promise<void> {
    const [program, ...args] = image.command;
    const env: Record<string, string> = {};
    for (const name of this.config.inheritEnv) {
      const v = process.env[name];
      if (v !== undefined) env[name] = v;
    }
    Object.assign(env, image.env);
    for (const [k, v] of Object.entries(rec.metadata)) env[metadataEnvName(k)] = v;
    Object.assign(env, {
      NEPHELE_INSTANCE_ID: rec.id,
      NEPHELE_INSTANCE_NAME: rec.name,
      NEPHELE_PROVIDER_ID: this.config.providerId,
      NEPHELE_IMAGE_ID: rec.image,
      NEPHELE_INSTANCE_DIR: this.instanceDir(rec.id),
      NEPHELE_USER_DATA: rec.userData ?? '',
      NEPHELE_INSTANCE_ADDRESS: rec.address ?? this.config.address,
    });
    const out = openSync(this.logPath(rec.id), 'a');
    let child;
    try {
      child = spawn(program!, args, {
        cwd: image.cwd ?? this.instanceDir(rec.id),
        env,
        detached: true,
        stdio: ['ignore', out, out],
      });
      await new Promise<void>((resolve, reject) => {
        child!.once('spawn', resolve);
        child!.once('error', reject);
      });
    } catch (e) {
      throw new PermanentDriverError(`cannot start ${image.command.join(' ')}: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      closeSync(out);
    }
    child.unref();
    const pid = child.pid!;
    // Read at once: until this process reaps it, even a child that already exited is a zombie
    // whose stat still carries its start time.
    const st = readProcStat(pid);
    const now = new Date().toISOString();
    rec.process = { pid, pgid: pid, startTicks: st?.startTicks ?? -1, bootId: bootId(), startedAt: now };
    rec.observed = 'running';
    rec.updatedAt = now;
    this.store.writeRecord(rec);
    this.runUserData(rec, env);
  }

  // Note [User data]
  // The way cloud-init treats user data on a VM: a `#!` script is written to
  // <instance dir>/user-data and run once per instance (its first boot; `user-data.done` marks it),
  // with the instance's environment, output to user-data.log. It runs detached, after the leader,
  // and carries NEPHELE_INSTANCE_ID, so stop and destroy end it with the rest of the instance.
  // SSH keys (`ssh_authorized_keys` of a `#cloud-config`, `# ssh-authorized-key: …` lines of a
  // script) go to <instance dir>/.ssh/authorized_keys.
  private runUserData(rec: LocalInstanceRecord, env: Record<string, string>): void {
    const ud = rec.userData;
    if (!ud) return;
    const dir = this.instanceDir(rec.id);
    const keys = ud.startsWith('#cloud-config')
      ? [...ud.matchAll(/^\s+-\s+((?:ssh-|ecdsa-)\S+\s+\S+.*)$/gm)].map((m) => m[1]!.trim())
      : [...ud.matchAll(/^# ssh-authorized-key: (.+)$/gm)].map((m) => m[1]!.trim());
    if (keys.length) {
      mkdirSync(path.join(dir, '.ssh'), { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dir, '.ssh', 'authorized_keys'), `${keys.join('\n')}\n`, { mode: 0o600 });
    }
    const done = path.join(dir, 'user-data.done');
    if (!ud.startsWith('#!') || existsSync(done)) return;
    const script = path.join(dir, 'user-data');
    writeFileSync(script, ud, { mode: 0o700 });
    writeFileSync(done, new Date().toISOString());
    const out = openSync(path.join(dir, 'user-data.log'), 'a');
    try {
      const child = spawn(script, [], { cwd: dir, env, detached: true, stdio: ['ignore', out, out] });
      child.once('error', (e) =>
        writeFileSync(path.join(dir, 'user-data.log'), `cannot run user data: ${e.message}\n`, { flag: 'a' }),
      );
      child.unref();
    } finally {
      closeSync(out);
    }
  }

  // --- state --------------------------------------------------------------------------

  /** The instance as it is now; a change since the last look is recorded (see Note [Local instances]). */
  private observe(rec: LocalInstanceRecord): ProviderInstance {
    const transitional = this.busy.get(rec.id);
    if (transitional) return this.toInstance(rec, transitional);
    const state: InstanceState = leaderAlive(rec) ? 'running' : 'stopped';
    if (state !== rec.observed && !this.ops.isLocked(rec.id)) this.markObserved(rec, state);
    return this.toInstance(rec, state);
  }

  private markObserved(rec: LocalInstanceRecord, state: InstanceState): void {
    if (rec.observed === state) return;
    rec.observed = state;
    rec.updatedAt = new Date().toISOString();
    this.store.writeRecord(rec);
  }

  private toInstance(rec: LocalInstanceRecord, state: InstanceState): ProviderInstance {
    return {
      id: rec.id,
      name: rec.name,
      state,
      addresses: [rec.address ?? this.config.address],
      image: rec.image,
      profile: rec.profile,
      realm: rec.realm,
      createdAt: rec.createdAt,
      updatedAt: rec.updatedAt,
      metadata: { ...rec.metadata },
      idempotencyKey: rec.idempotencyKey,
    };
  }

  private claimedInstance(claim: KeyClaim): ProviderInstance {
    if (claim.tombstone) {
      const t = claim.tombstone;
      return {
        id: claim.id,
        name: t.name,
        state: 'terminated',
        addresses: [],
        image: t.image,
        profile: t.profile,
        realm: t.realm,
        createdAt: t.createdAt,
        updatedAt: t.destroyedAt,
        metadata: { ...t.metadata },
      };
    }
    const rec = this.store.readRecord(claim.id);
    if (!rec) throw new TransientDriverError(`instance ${claim.id} is being created or destroyed; retry`);
    return this.observe(rec);
  }
}
