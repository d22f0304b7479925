import { ResourceSpec } from '../common/resource.types';

export const IMAGES: ResourceSpec = {
  resource: 'images',
  label: 'image',
  table: 'images',
  scope: 'project',
  columns: [
    { api: 'name', col: 'name', kind: 'text', filter: true },
    { api: 'os', col: 'os', kind: 'text', filter: true },
    { api: 'arch', col: 'arch', kind: 'text', filter: true },
    { api: 'description', col: 'description', kind: 'text' },
  ],
  referrers: [
    {
      resource: 'image-mappings',
      label: 'image mapping',
      table: 'image_mappings',
      column: 'image_id',
      name: 'provider_image_id',
    },
  ],
  conflicts: { images_name_key: 'an image with that name already exists in this project' },
};
