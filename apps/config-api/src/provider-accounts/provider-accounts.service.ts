import { Injectable } from '@nestjs/common';
import { SealedSecret } from '@nephele/crypto';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { isUuid } from '../common/scope.util';
import { refuseHostProvider } from '../common/host-drivers.util';
import { SecretsService } from '../secrets/secrets.service';
import { PROVIDER_ACCOUNTS } from './provider-accounts.resource';

@Injectable()
export class ProviderAccountsService extends ResourceService {
  constructor(
    repo: ResourceRepository,
    changes: ChangeRecorder,
    private readonly secrets: SecretsService,
  ) {
    super(repo, changes, PROVIDER_ACCOUNTS, {
      prepare: async (ctx, values) => {
        // see Note [Host drivers]
        await refuseHostProvider(ctx.tx, ctx.principal, ctx.dto.providerId ?? ctx.existing?.provider_id);
        const c = ctx.dto.credentials;
        if (c === null) values.credentials = null;
        else if (c !== undefined) values.credentials = JSON.stringify(this.secrets.seal(ctx.id, c));
      },
    });
  }

  /** The decrypted credentials of an account, for the iaas-gateway (bus only, never REST). */
  async credentials(
    accountId: string,
  ): Promise<{ accountId: string; providerId: string; credentials: Record<string, unknown> | null }> {
    if (!isUuid(accountId)) throw new Error(`provider account ${accountId} not found`);
    const rows: { provider_id: string; credentials: SealedSecret | null }[] = await this.repo.db.query(
      `SELECT provider_id, credentials FROM config_api.provider_accounts WHERE id = $1`,
      [accountId],
    );
    if (!rows[0]) throw new Error(`provider account ${accountId} not found`);
    const sealed = rows[0].credentials;
    return {
      accountId,
      providerId: rows[0].provider_id,
      credentials: sealed ? this.secrets.open<Record<string, unknown>>(accountId, sealed) : null,
    };
  }
}
