import { Injectable } from '@nestjs/common';
import { ProblemException } from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { POOL_FAMILIES } from './pool-families.resource';

@Injectable()
export class PoolFamiliesService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, POOL_FAMILIES, {
      prepare: async (ctx) => {
        const ids = ctx.dto.accountIds as string[] | undefined;
        if (!ids?.length) return;
        const rows: { id: string }[] = await ctx.tx.query(
          `SELECT id::text AS id FROM config_api.provider_accounts WHERE id = ANY($1::uuid[]) AND project_id = $2`,
          [ids, ctx.project],
        );
        const found = new Set(rows.map((r) => r.id));
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
        await ctx.tx.query(`DELETE FROM config_api.pool_family_accounts WHERE family_id = $1`, [ctx.id]);
        if (ids.length) {
          await ctx.tx.query(
            `INSERT INTO config_api.pool_family_accounts (family_id, account_id) SELECT $1, unnest($2::uuid[])`,
            [ctx.id, ids],
          );
        }
      },
    });
  }
}
