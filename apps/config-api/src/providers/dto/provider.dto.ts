import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
} from 'class-validator';
import { IsBoolQuery, ListQueryDto, NameMatches } from '../../common/dto/common.dto';

export class CreateProviderDto {
  @ApiProperty({ example: 'openstack-lab' }) @IsString() @NameMatches() name!: string;

  @ApiProperty({ description: 'Driver kind', example: 'openstack' })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{0,39}$/, {
    message: 'kind must be a driver name such as local, simulated, openstack, ec2',
  })
  kind!: string;

  @ApiPropertyOptional({ example: 'https://keystone.example.com:5000/v3' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  endpoint?: string | null;

  @ApiPropertyOptional({ example: 'RegionOne' }) @IsOptional() @IsString() @MaxLength(128) region?:
    string | null;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;

  @ApiPropertyOptional({ description: 'Driver options (no secrets: those go into provider accounts)' })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;
}

export class UpdateProviderDto extends PartialType(OmitType(CreateProviderDto, ['kind'] as const)) {}

export class ListProvidersQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(40) kind?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) region?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptional() @IsBoolQuery() enabled?: string;
}

export class CreateProviderProfileDto {
  @ApiProperty({ example: 'm1.small' }) @IsString() @NameMatches() name!: string;
  @ApiProperty({ minimum: 0 }) @IsInt() @Min(0) cpu!: number;
  @ApiProperty({ minimum: 0 }) @IsInt() @Min(0) memoryMb!: number;
  @ApiProperty({ minimum: 0 }) @IsInt() @Min(0) storageGb!: number;
  @ApiProperty({ example: 'x86_64' })
  @IsString()
  @Matches(/^[a-z0-9_]{1,32}$/, { message: 'arch must be like x86_64 or aarch64' })
  arch!: string;
  @ApiPropertyOptional({ minimum: 0, description: 'Cost per hour; used to break ties between equal sizes' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  costPerHour?: number | null;
}

export class UpdateProviderProfileDto extends PartialType(CreateProviderProfileDto) {}

export class ListProviderProfilesQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(32) arch?: string;
}

export class CreateRealmDto {
  @ApiProperty({ example: 'nova' }) @IsString() @NameMatches() name!: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() available?: boolean;
}

export class UpdateRealmDto extends PartialType(CreateRealmDto) {}

export class ListRealmsQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) name?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptional() @IsBoolQuery() available?: string;
}
