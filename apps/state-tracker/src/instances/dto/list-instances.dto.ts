import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { INSTANCE_STATES } from '@nephele/contracts';

export class ListInstancesDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(300) owner?: string;
  @ApiPropertyOptional({ description: 'owner prefix, e.g. deployable:<id>/' })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  ownerPrefix?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) pool?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) project?: string;
  @ApiPropertyOptional({ enum: INSTANCE_STATES }) @IsOptional() @IsIn(INSTANCE_STATES) state?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) providerAccountId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) cursor?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() limit?: string;
}

export class ProviderCallbackDto {
  @IsString() @MaxLength(300) providerInstanceId!: string;
  @IsIn([
    ...INSTANCE_STATES,
    'active',
    'build',
    'shutoff',
    'deleted',
    'ACTIVE',
    'BUILD',
    'SHUTOFF',
    'DELETED',
    'ERROR',
  ])
  state!: string;
  @IsOptional() @IsString({ each: true }) addresses?: string[];
  @IsOptional() @IsString() @MaxLength(1000) reason?: string;
}
