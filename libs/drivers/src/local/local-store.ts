import { createHash, randomUUID } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { InstanceState } from '@nephele/contracts';
import { NotFoundError } from '../driver.errors';

/** What is on disk per instance. */
export interface LocalInstanceRecord {
  version: 1;
  id: string;
  name: string;
  image: string;
  profile: string;
  realm: string;
  metadata: Record<string, string>;
  userData?: string;
  idempotencyKey: string;
  createdAt: string;
  updatedAt: string;
  /** The state last reported, so a change seen later (the process died) moves `updatedAt`. */
  observed: InstanceState;
  /** The current (or last) process group leader. */
  /** Its own loopback address (`addressPerInstance`). */
  address?: string;
  process?: { pid: number; pgid: number; startTicks: number; bootId: string; startedAt: string };
}

/** What a key file holds. */
export interface KeyClaim {
  id: string;
  /** Set when the instance was destroyed: a repeated create answers `terminated`. */
  tombstone?: Pick<LocalInstanceRecord, 'name' | 'image' | 'profile' | 'realm' | 'metadata' | 'createdAt'> & {
    destroyedAt: string;
  };
}

/**
 * The local driver's state on disk (the layout in Note [Local instances]): instance records and
 * idempotency-key claims, every write atomic, so a driver in another process sees the same.
 */
export class LocalInstanceStore {
  private readonly instancesDir: string;
  private readonly keysDir: string;

  constructor(stateDir: string) {
    this.instancesDir = path.join(stateDir, 'instances');
    this.keysDir = path.join(stateDir, 'keys');
    mkdirSync(this.instancesDir, { recursive: true });
    mkdirSync(this.keysDir, { recursive: true });
  }

  /** The directory holding an instance's record and output log. */
  instanceDir(id: string): string {
    return path.join(this.instancesDir, id);
  }

  /** Where an instance's stdout and stderr go. */
  logPath(id: string): string {
    return path.join(this.instanceDir(id), 'output.log');
  }

  /** The claim file of an idempotency key. */
  keyFile(idempotencyKey: string): string {
    return path.join(this.keysDir, createHash('sha256').update(idempotencyKey).digest('hex'));
  }

  /** The ids of every instance directory. */
  ids(): string[] {
    return readdirSync(this.instancesDir);
  }

  /** Removes an instance's directory (its record, log and user data). */
  removeInstance(id: string): void {
    rmSync(this.instanceDir(id), { recursive: true, force: true });
  }

  private recordPath(id: string): string {
    return path.join(this.instanceDir(id), 'instance.json');
  }

  readRecord(id: string): LocalInstanceRecord | null {
    try {
      return JSON.parse(readFileSync(this.recordPath(id), 'utf8')) as LocalInstanceRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
        return null;
      throw e;
    }
  }

  requireRecord(id: string): LocalInstanceRecord {
    const rec = /^[0-9a-f-]{36}$/.test(id) ? this.readRecord(id) : null;
    if (!rec) throw new NotFoundError(`local instance ${id} not found`);
    return rec;
  }

  writeRecord(rec: LocalInstanceRecord): void {
    this.writeAtomic(this.recordPath(rec.id), JSON.stringify(rec, null, 2));
  }

  writeAtomic(file: string, content: string): void {
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, content, { mode: 0o600 });
    renameSync(tmp, file);
  }

  readClaim(keyFile: string): KeyClaim | null {
    try {
      return JSON.parse(readFileSync(keyFile, 'utf8')) as KeyClaim;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Atomic across processes: a hard link to a complete temp file fails with EEXIST if claimed. */
  claimKey(keyFile: string, claim: KeyClaim): boolean {
    const tmp = `${keyFile}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify(claim), { mode: 0o600 });
    try {
      linkSync(tmp, keyFile);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
}
