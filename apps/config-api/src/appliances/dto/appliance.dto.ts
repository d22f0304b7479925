import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { ListQueryDto, NameMatches, ProjectListQueryDto, ProjectOwnedDto } from '../../common/dto/common.dto';

export class CreateApplianceDto extends ProjectOwnedDto {
  @ApiProperty({ example: 'wordpress' }) @IsString() @NameMatches() name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string | null;
}

export class UpdateApplianceDto extends PartialType(OmitType(CreateApplianceDto, ['project'] as const)) {}

export class ListAppliancesQueryDto extends ProjectListQueryDto {}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
export const PARAMETER_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array'] as const;

export class TemplateParameterDto {
  @ApiProperty({ example: 'admin_email' })
  @IsString()
  @Matches(IDENT, { message: 'name must be an identifier (letters, digits, _)' })
  name!: string;

  @ApiProperty({ enum: PARAMETER_TYPES }) @IsIn(PARAMETER_TYPES) type!: string;
  @ApiPropertyOptional({ default: false }) @IsOptional() @IsBoolean() required?: boolean;
  @ApiPropertyOptional({ description: 'Default value (not a secret: it is stored and returned as is)' })
  @Allow()
  default?: unknown;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
}

export class TemplateOutputDto {
  @ApiProperty({ example: 'url' })
  @IsString()
  @Matches(IDENT, { message: 'name must be an identifier (letters, digits, _)' })
  name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
  @ApiPropertyOptional({
    example: 'http://{{assemblies.web1.address}}:8080/',
    description: 'What the output is, with {{parameters.x}} and {{assemblies.<name>.address}} placeholders',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  value?: string;
}

export const TEMPLATE_MAX = 256 * 1024;

export class CreateImplementationDto {
  @ApiProperty({ description: 'The provider (site) this implementation deploys to' })
  @IsUUID()
  providerId!: string;

  @ApiProperty({
    example: '1.0.0',
    description: "The template's own version (`version` is the resource's ETag counter)",
  })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, {
    message: 'templateVersion must be like 1.0.0 (letters, digits, . _ + -)',
  })
  templateVersion!: string;

  @ApiProperty({
    description: 'The deployable template: JSON or YAML text, or a JSON object',
    oneOf: [{ type: 'string' }, { type: 'object' }],
  })
  @ValidateBy({
    name: 'isTemplate',
    validator: {
      validate: (v: unknown) =>
        (typeof v === 'string' && v.length > 0 && v.length <= TEMPLATE_MAX) ||
        (typeof v === 'object' && v !== null && !Array.isArray(v)),
      defaultMessage: () =>
        `template must be a JSON/YAML text (at most ${TEMPLATE_MAX} characters) or an object`,
    },
  })
  template!: string | Record<string, unknown>;

  @ApiPropertyOptional({
    enum: ['json', 'yaml'],
    description: 'How to read a text template (default: detected)',
  })
  @IsOptional()
  @IsIn(['json', 'yaml'])
  templateFormat?: 'json' | 'yaml';

  @ApiPropertyOptional({ type: [TemplateParameterDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => TemplateParameterDto)
  parameters?: TemplateParameterDto[];

  @ApiPropertyOptional({ type: [TemplateOutputDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => TemplateOutputDto)
  outputs?: TemplateOutputDto[];

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string | null;
}

export class UpdateImplementationDto extends PartialType(
  OmitType(CreateImplementationDto, ['providerId', 'templateVersion'] as const),
) {}

export class ListImplementationsQueryDto extends ListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsUUID() providerId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) templateVersion?: string;
}
