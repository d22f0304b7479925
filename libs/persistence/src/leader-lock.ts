import { DataSource, QueryRunner } from 'typeorm';
import { advisoryKey } from './advisory-lock';

// Note [Leadership]
// A loop that must run on one replica at a time (the tracker's poller, the CPE's supervisor) holds a
// session-level advisory lock on a connection of its own. If the process dies, PostgreSQL ends the
// session and frees the lock; a standby that retries `pg_try_advisory_lock` takes over within one
// retry period. The embedded database serves one process only: there, the caller is always leader.

export class LeaderLock {
  private runner?: QueryRunner;
  private leader = false;
  private timer?: NodeJS.Timeout;
  private readonly listeners: ((leader: boolean) => void)[] = [];

  constructor(
    private readonly ds: DataSource,
    private readonly name: string,
    private readonly embedded: boolean,
    private readonly retryMs = 2000,
  ) {}

  /** Starts trying to become leader; resolves after the first attempt. */
  async start(): Promise<void> {
    await this.attempt();
    this.timer = setInterval(() => void this.attempt(), this.retryMs);
    this.timer.unref();
  }

  isLeader(): boolean {
    return this.leader;
  }

  onChange(listener: (leader: boolean) => void): void {
    this.listeners.push(listener);
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    for (const l of this.listeners) l(leader);
  }

  private async attempt(): Promise<void> {
    if (this.embedded) return this.set(true);
    try {
      if (this.leader && this.runner) {
        await this.runner.query('SELECT 1'); // still our session?
        return;
      }
      if (!this.runner) {
        this.runner = this.ds.createQueryRunner();
        await this.runner.connect();
      }
      const [{ ok }] = (await this.runner.query(
        `SELECT pg_try_advisory_lock(${advisoryKey(this.name)}) AS ok`,
      )) as {
        ok: boolean;
      }[];
      this.set(ok);
    } catch {
      this.set(false);
      await this.runner?.release().catch(() => undefined);
      this.runner = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.runner) {
      if (this.leader)
        await this.runner
          .query(`SELECT pg_advisory_unlock(${advisoryKey(this.name)})`)
          .catch(() => undefined);
      await this.runner.release().catch(() => undefined);
      this.runner = undefined;
    }
    this.set(false);
  }
}
