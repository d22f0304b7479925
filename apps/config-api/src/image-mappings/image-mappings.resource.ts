import { ResourceSpec } from '../common/resource.types';

/** What a broker image is called on one provider account (the default ImageMapper's table). */
export const IMAGE_MAPPINGS: ResourceSpec = {
  resource: 'image-mappings',
  label: 'image mapping',
  table: 'image_mappings',
  scope: 'project',
  columns: [
    { api: 'imageId', col: 'image_id', kind: 'uuid', filter: true, createOnly: true },
    { api: 'accountId', col: 'account_id', kind: 'uuid', filter: true, createOnly: true },
    { api: 'providerImageId', col: 'provider_image_id', kind: 'text', filter: true },
  ],
  refs: [
    { api: 'imageId', table: 'images', label: 'image', sameProject: true },
    { api: 'accountId', table: 'provider_accounts', label: 'provider account', sameProject: true },
  ],
  conflicts: { image_mappings_pair_key: 'this image already has a mapping for that provider account' },
};
