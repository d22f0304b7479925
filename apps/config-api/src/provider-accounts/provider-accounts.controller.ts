import { crudController } from '../common/crud.controller';
import {
  CreateProviderAccountDto,
  ListProviderAccountsQueryDto,
  UpdateProviderAccountDto,
} from './dto/provider-account.dto';
import { ProviderAccountsService } from './provider-accounts.service';

export const ProviderAccountsController = crudController({
  path: 'provider-accounts',
  tag: 'provider-accounts',
  label: 'provider account',
  service: ProviderAccountsService,
  createDto: CreateProviderAccountDto,
  updateDto: UpdateProviderAccountDto,
  queryDto: ListProviderAccountsQueryDto,
});
