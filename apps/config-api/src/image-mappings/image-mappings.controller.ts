import { crudController } from '../common/crud.controller';
import {
  CreateImageMappingDto,
  ListImageMappingsQueryDto,
  UpdateImageMappingDto,
} from './dto/image-mapping.dto';
import { ImageMappingsService } from './image-mappings.service';

export const ImageMappingsController = crudController({
  path: 'image-mappings',
  tag: 'images',
  label: 'image mapping',
  service: ImageMappingsService,
  createDto: CreateImageMappingDto,
  updateDto: UpdateImageMappingDto,
  queryDto: ListImageMappingsQueryDto,
});
