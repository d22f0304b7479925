import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** A Kubernetes-style condition (Note [Conditions] in the DPE). */
export class ConditionDto {
  @ApiProperty({ example: 'Ready' }) type!: string;
  @ApiProperty({ enum: ['True', 'False', 'Unknown'] }) status!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) lastTransitionTime!: string;
}

/** A deployable with its live status. */
export class DeployableViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) project!: string;
  @ApiProperty({ description: 'configuration version' }) version!: number;
  @ApiProperty({ enum: ['started', 'stopped'] }) desired!: string;
  @ApiProperty({ example: 'running' }) status!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ type: [ConditionDto] }) conditions!: ConditionDto[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'each with its conditions and its services with theirs; a service names its `group` when in one, a clone instance its `clone`',
  })
  assemblies!: unknown[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ example: 'W/"3"' }) etag!: string;
  @ApiPropertyOptional({ description: 'PUT only: the document equals the current version' })
  unchanged?: boolean;
}

/** What a delete frees (asynchronously: 202). */
export class DeletionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'instances being destroyed' }) instances!: number;
}

/** One stored configuration version (without its document). */
export class DeployableVersionDto {
  @ApiProperty() version!: number;
  @ApiProperty({ enum: ['json', 'yaml', 'xml'] }) format!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty() created_by!: string;
}

export class DeployableVersionsDto {
  @ApiProperty({ type: [DeployableVersionDto] }) items!: DeployableVersionDto[];
}

/** One stored configuration version with its document and the source as sent. */
export class DeployableVersionDetailDto extends DeployableVersionDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the parsed document' })
  document!: Record<string, unknown>;
  @ApiProperty({ description: 'the body as sent (JSON, YAML or XML)' }) source!: string;
}
