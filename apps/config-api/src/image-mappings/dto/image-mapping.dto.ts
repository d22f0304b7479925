import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ListQueryDto, ProjectOwnedDto } from '../../common/dto/common.dto';

export class CreateImageMappingDto extends ProjectOwnedDto {
  @ApiProperty() @IsUUID() imageId!: string;
  @ApiProperty() @IsUUID() accountId!: string;
  @ApiProperty({ example: 'ami-0abcdef1234567890' }) @IsString() @Length(1, 512) providerImageId!: string;
}

export class UpdateImageMappingDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) providerImageId?: string;
}

export class ListImageMappingsQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() project?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() imageId?: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() accountId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 512) providerImageId?: string;
}
