import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { RESOURCE_NAME_PATTERN } from '@nephele/contracts';

export class ClusterUserDto {
  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'username: letters, digits, _ . - (at most 64)' })
  username!: string;
  @ApiProperty({ description: 'Write-only: stored encrypted, never returned' })
  @IsString()
  @MinLength(8)
  @MaxLength(512)
  password!: string;
}

export class CreateClusterDto {
  @ApiProperty({ example: 'blog' })
  @Matches(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/, {
    message: 'name: lower-case letters, digits, - or _ (at most 63)',
  })
  name!: string;
  @ApiProperty({ description: 'Appliance id or name' })
  @IsString()
  @Matches(RESOURCE_NAME_PATTERN, {
    message: 'appliance must be an appliance id or name (1-128 letters, digits, ".", "_", "-" or spaces)',
  })
  appliance!: string;
  @ApiPropertyOptional({ description: 'Implementation id (default: the newest)' })
  @IsOptional()
  @IsUUID()
  implementation?: string;
  @ApiPropertyOptional({ description: 'Values of the template parameters' })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: [ClusterUserDto],
    description: 'Users on the cluster (encrypted at rest, never returned)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ClusterUserDto)
  users?: ClusterUserDto[];
  @ApiPropertyOptional({ description: 'Pool (default: the template’s, else "default")' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  pool?: string;
}

export class ClusterApplianceDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) implementation!: string;
  @ApiProperty() templateVersion!: string;
}

export class ClusterAssemblyOutputDto {
  @ApiProperty() name!: string;
  @ApiProperty() state!: string;
  @ApiProperty({ type: [String] }) addresses!: string[];
}

export class ClusterOutputsDto {
  @ApiProperty({ type: [ClusterAssemblyOutputDto] }) assemblies!: ClusterAssemblyOutputDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', nullable: true } })
  values!: Record<string, string | null>;
}

/** A cluster: an appliance instantiated (Note [Clusters]). */
export class ClusterViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) project!: string;
  @ApiProperty({ type: ClusterApplianceDto }) appliance!: ClusterApplianceDto;
  @ApiProperty({ type: 'object', additionalProperties: true }) parameters!: Record<string, unknown>;
  @ApiProperty({ type: [String] }) users!: string[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) deployableId!: string | null;
  @ApiProperty() status!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ type: ClusterOutputsDto }) outputs!: ClusterOutputsDto;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}
