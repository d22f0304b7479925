import { crudController } from '../common/crud.controller';
import { CreateImageDto, ListImagesQueryDto, UpdateImageDto } from './dto/image.dto';
import { ImagesService } from './images.service';
import { IMAGES } from './images.resource';

export const ImagesController = crudController({
  path: 'images',
  tag: 'images',
  label: 'image',
  service: ImagesService,
  spec: IMAGES,
  createDto: CreateImageDto,
  updateDto: UpdateImageDto,
  queryDto: ListImagesQueryDto,
});
