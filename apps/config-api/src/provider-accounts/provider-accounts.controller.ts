import { crudController } from '../common/crud.controller';
import {
  CreateProviderAccountDto,
  ListProviderAccountsQueryDto,
  UpdateProviderAccountDto,
} from './dto/provider-account.dto';
import { ProviderAccountsService } from './provider-accounts.service';
import { PROVIDER_ACCOUNTS } from './provider-accounts.resource';

export const ProviderAccountsController = crudController({
  path: 'provider-accounts',
  tag: 'provider-accounts',
  label: 'provider account',
  service: ProviderAccountsService,
  spec: PROVIDER_ACCOUNTS,
  createDto: CreateProviderAccountDto,
  updateDto: UpdateProviderAccountDto,
  queryDto: ListProviderAccountsQueryDto,
});
