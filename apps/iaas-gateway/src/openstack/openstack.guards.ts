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

/** The Nova context of the request: the guard's, or resolved now (routes without a body). */
export function novaContextOf(
  auth: OpenStackAuthService,
  req: Request,
  res: Response,
  ref: string,
): Promise<ComputeContext> {
  const done = (req as WithContext).novaContext;
  return done ? Promise.resolve(done) : computeContext(auth, req, res, ref);
}

/** The Heat context of the request: the guard's, or resolved now (routes without a body). */
export function heatContextOf(
  auth: OpenStackAuthService,
  req: Request,
  ref: string,
  tenant: string,
): Promise<HeatContext> {
  const done = (req as WithContext).heatContext;
  return done ? Promise.resolve(done) : heatContext(auth, req, ref, tenant);
}

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
