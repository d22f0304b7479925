import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { Principal, ProblemException } from '@nephele/service-kit';
import { GroupsRepository } from '../state/groups.repository';
import { GroupsService, UUID } from './groups.service';

type Req = Request & { principal?: Principal };

/**
 * The group of the route's `:id` (and its policy `:pid`, if the route has one) is one the caller
 * may see, or 404: another project's group answers 404 even to a malformed body, so this runs as
 * a guard, before the body's ValidationPipe (Note [Request DTOs]).
 */
@Injectable()
export class GroupVisibleGuard implements CanActivate {
  constructor(
    private readonly groups: GroupsService,
    private readonly repo: GroupsRepository,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Req>();
    const { id, pid } = req.params as { id: string; pid?: string };
    await this.groups.visible(id, req.principal!);
    if (pid !== undefined && !(UUID.test(pid) && (await this.repo.getPolicy(id, pid)))) {
      throw ProblemException.notFound(`policy ${pid}`);
    }
    return true;
  }
}
