import { Injectable } from '@nestjs/common';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { IMAGE_MAPPINGS } from './image-mappings.resource';
import { refuseHostAccount } from '../common/host-drivers.util';
import { ProviderAccountsRepository } from '../provider-accounts/provider-accounts.repository';

@Injectable()
export class ImageMappingsService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder, accounts: ProviderAccountsRepository) {
    super(repo, changes, IMAGE_MAPPINGS, {
      // see Note [Host drivers]
      prepare: (ctx) =>
        refuseHostAccount(accounts, ctx.tx, ctx.principal, ctx.dto.accountId ?? ctx.existing?.account_id),
    });
  }
}
