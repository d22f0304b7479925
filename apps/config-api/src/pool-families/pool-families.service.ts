import { Injectable } from '@nestjs/common';
import { ProblemException } from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { ProviderAccountsRepository } from '../provider-accounts/provider-accounts.repository';
import { PoolFamiliesRepository } from './pool-families.repository';
import { POOL_FAMILIES } from './pool-families.resource';

@Injectable()
export class PoolFamiliesService extends ResourceService {
  constructor(
    repo: ResourceRepository,
    changes: ChangeRecorder,
    accounts: ProviderAccountsRepository,
    families: PoolFamiliesRepository,
  ) {
    super(repo, changes, POOL_FAMILIES, {
      prepare: async (ctx) => {
        const ids = ctx.dto.accountIds as string[] | undefined;
        if (!ids?.length) return;
        const found = await accounts.inProject(ctx.tx, ids, ctx.project);
        const errors = ids
          .map((id, i) => ({ id, i }))
          .filter((x) => !found.has(x.id))
          .map((x) => ({
            field: `accountIds[${x.i}]`,
            message: `no provider account with id ${x.id} in this project`,
          }));
        if (errors.length) throw ProblemException.badRequest('validation failed', errors);
      },
      written: async (ctx) => {
        const ids = ctx.dto.accountIds as string[] | undefined;
        if (ids === undefined) return;
        await families.setAccounts(ctx.tx, ctx.id, ids);
      },
    });
  }
}
