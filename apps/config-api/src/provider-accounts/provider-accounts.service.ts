import { Injectable } from '@nestjs/common';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { isUuid } from '../common/scope.util';
import { refuseHostProvider } from '../common/host-drivers.util';
import { SecretsService } from '../secrets/secrets.service';
import { ProviderAccountsRepository } from './provider-accounts.repository';
import { PROVIDER_ACCOUNTS } from './provider-accounts.resource';

@Injectable()
export class ProviderAccountsService extends ResourceService {
  constructor(
    repo: ResourceRepository,
    changes: ChangeRecorder,
    private readonly secrets: SecretsService,
    private readonly accounts: ProviderAccountsRepository,
  ) {
    super(repo, changes, PROVIDER_ACCOUNTS, {
      prepare: async (ctx, values) => {
        // see Note [Host drivers]
        await refuseHostProvider(
          accounts,
          ctx.tx,
          ctx.principal,
          ctx.dto.providerId ?? ctx.existing?.provider_id,
        );
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
    const row = await this.accounts.credentials(accountId);
    if (!row) throw new Error(`provider account ${accountId} not found`);
    const sealed = row.credentials;
    return {
      accountId,
      providerId: row.provider_id,
      credentials: sealed ? this.secrets.open<Record<string, unknown>>(accountId, sealed) : null,
    };
  }
}
