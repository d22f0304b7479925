import { crudController } from '../common/crud.controller';
import {
  CreateImageMappingDto,
  ListImageMappingsQueryDto,
  UpdateImageMappingDto,
} from './dto/image-mapping.dto';
import { ImageMappingsService } from './image-mappings.service';
import { IMAGE_MAPPINGS } from './image-mappings.resource';

export const ImageMappingsController = crudController({
  path: 'image-mappings',
  tag: 'images',
  label: 'image mapping',
  service: ImageMappingsService,
  spec: IMAGE_MAPPINGS,
  createDto: CreateImageMappingDto,
  updateDto: UpdateImageMappingDto,
  queryDto: ListImageMappingsQueryDto,
});
