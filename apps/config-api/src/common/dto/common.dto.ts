import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { RESOURCE_NAME_PATTERN } from '@nephele/contracts';

/** Names: 1-128 characters, starting with a letter or digit. */
export const NAME_PATTERN = RESOURCE_NAME_PATTERN;
export const NAME_MESSAGE =
  'name must be 1-128 letters, digits, ".", "_", "-" or spaces, starting with a letter or digit';

/** `limit`, `cursor` and `project` of every list. */
export class ListQueryDto {
  @ApiPropertyOptional({ description: '1..1000, default 100' }) @IsOptional() @IsString() limit?: string;
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class ProjectListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({
    description: 'Only this project (admins; a scoped token sees its own project only)',
  })
  @IsOptional()
  @IsUUID()
  project?: string;

  @ApiPropertyOptional({ description: 'Exact name' }) @IsOptional() @IsString() @MaxLength(128) name?: string;
}

export const BOOL_QUERY = ['true', 'false'];
export function IsBoolQuery(): PropertyDecorator {
  return IsIn(BOOL_QUERY, { message: '$property must be true or false' });
}

/** The project a project-owned resource is created in (admins must name it). */
export class ProjectOwnedDto {
  @ApiPropertyOptional({ description: 'Project id: required for admin tokens, implied for scoped tokens' })
  @IsOptional()
  @IsUUID()
  project?: string;
}

/** Limits recorded here and enforced where instances are launched (iaas-gateway). Absent = unlimited. */
export class QuotaDto {
  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) maxInstances?: number;
  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) maxCores?: number;
  @ApiPropertyOptional({ minimum: 0 }) @IsOptional() @IsInt() @Min(0) maxMemoryMb?: number;
}

export const NameMatches = () => Matches(NAME_PATTERN, { message: NAME_MESSAGE });

const AMOUNT_MAX = 1_000_000_000;
function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= AMOUNT_MAX;
}

/** Whether `v` is an amount: a non-negative integer, or `{min?, max?}` with min <= max. */
export function isAmount(v: unknown): boolean {
  if (isCount(v)) return true;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (!keys.length || keys.some((k) => k !== 'min' && k !== 'max')) return false;
  if (o.min !== undefined && !isCount(o.min)) return false;
  if (o.max !== undefined && !isCount(o.max)) return false;
  return o.min === undefined || o.max === undefined || (o.min as number) <= (o.max as number);
}

/** A fixed amount (non-negative integer) or a range `{min?, max?}`. */
export function IsAmount(opts?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isAmount',
      validator: {
        validate: (v) => isAmount(v),
        defaultMessage: (a) =>
          `${a?.property ?? 'value'} must be a non-negative integer or {min?, max?} with min <= max`,
      },
    },
    opts,
  );
}

export const AMOUNT_SCHEMA = {
  oneOf: [
    { type: 'integer', minimum: 0 },
    {
      type: 'object',
      properties: { min: { type: 'integer', minimum: 0 }, max: { type: 'integer', minimum: 0 } },
      additionalProperties: false,
    },
  ],
};
