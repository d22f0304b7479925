import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { OpenStackAuthService } from './openstack-auth.service';
import { computeContext, ComputeContext } from './compute.util';
import { OsError } from './openstack.errors';

// The OpenStack routes with a body authenticate in guards, which Nest runs before the body's
// ValidationPipe: a request without a valid token is a 401 whatever its body, as before the
// bodies were DTOs (Note [Request DTOs]). The handler reads the context the guard resolved.

type WithContext = Request & { novaContext?: ComputeContext; heatContext?: HeatContext };
export type HeatContext = Awaited<ReturnType<typeof heatContext>>;

/** Authenticates a Heat request, checks its tenant is the token's project and resolves its pool. */
export async function heatContext(auth: OpenStackAuthService, req: Request, ref: string, tenant: string) {
  const c = await auth.authenticate(req);
  if (tenant !== c.project.id) throw new OsError(404, `no project ${tenant} in this token's scope`);
  const { pool } = await auth.pool(c, ref);
  return { c, pool };
}

/** What the route's guard resolved, or `resolve()` now (routes without a body have no guard). */
function resolved<T>(req: Request, key: keyof WithContext & `${string}Context`, resolve: () => Promise<T>) {
  const done = (req as WithContext)[key] as T | undefined;
  return done ? Promise.resolve(done) : resolve();
}

/** The Nova context of the request. */
export const novaContextOf = (auth: OpenStackAuthService, req: Request, res: Response, ref: string) =>
  resolved(req, 'novaContext', () => computeContext(auth, req, res, ref));

/** The Heat context of the request. */
export const heatContextOf = (auth: OpenStackAuthService, req: Request, ref: string, tenant: string) =>
  resolved(req, 'heatContext', () => heatContext(auth, req, ref, tenant));

@Injectable()
export class NovaAuthGuard implements CanActivate {
  constructor(private readonly auth: OpenStackAuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<WithContext>();
    const res = ctx.switchToHttp().getResponse<Response>();
    req.novaContext = await computeContext(this.auth, req, res, String(req.params.pool));
    return true;
  }
}

@Injectable()
export class HeatAuthGuard implements CanActivate {
  constructor(private readonly auth: OpenStackAuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<WithContext>();
    req.heatContext = await heatContext(this.auth, req, String(req.params.pool), String(req.params.tenant));
    return true;
  }
}
