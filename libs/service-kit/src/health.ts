import { Controller, Get, Header, Inject, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { Public } from './auth';
import { METRICS } from './tokens';

export type ReadinessCheck = () => Promise<void>;

/** Readiness checks registered by each service module (database reachable, bus connected). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }
  async run(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const out: Record<string, string> = {};
    let ok = true;
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3000)),
          ]);
          out[name] = 'ok';
        } catch (e) {
          ok = false;
          out[name] = (e as Error).message;
        }
      }),
    );
    return { ok, checks: out };
  }
}

@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthRegistry,
    @Inject(METRICS) private readonly metrics: Registry,
  ) {}

  /** Alive: the process answers. */
  @Get('healthz')
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  /** Ready: every dependency (database, bus) answers. 503 otherwise. */
  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const r = await this.health.run();
    res.status(r.ok ? 200 : 503).json({ status: r.ok ? 'ok' : 'unavailable', checks: r.checks });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async prometheus(): Promise<string> {
    return this.metrics.metrics();
  }
}
