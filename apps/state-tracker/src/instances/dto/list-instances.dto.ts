import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

/** An instance as the store knows it. */
export class InstanceViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'who launched it (a deployable, a scaling group)' }) owner!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) project!: string | null;
  @ApiProperty({ nullable: true, type: String }) pool!: string | null;
  @ApiProperty({ format: 'uuid' }) providerAccountId!: string;
  @ApiProperty({ nullable: true, type: String }) providerInstanceId!: string | null;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: String }) image!: string | null;
  @ApiProperty({ nullable: true, type: String }) hardwareProfile!: string | null;
  @ApiProperty({ example: 'running' }) state!: string;
  @ApiProperty({ type: [String] }) addresses!: string[];
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastSeen!: string | null;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

/** An instance with its state history. */
export class InstanceDetailDto extends InstanceViewDto {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) history!: unknown[];
}

export class CallbackResultDto {
  @ApiProperty({ description: 'false when the report was stale or named an unknown instance' })
  applied!: boolean;
}
