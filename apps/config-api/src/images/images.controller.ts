import { crudController } from '../common/crud.controller';
import { CreateImageDto, ListImagesQueryDto, UpdateImageDto } from './dto/image.dto';
import { ImagesService } from './images.service';

export const ImagesController = crudController({
  path: 'images',
  tag: 'images',
  label: 'image',
  service: ImagesService,
  createDto: CreateImageDto,
  updateDto: UpdateImageDto,
  queryDto: ListImagesQueryDto,
});
