import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { HOOK_KINDS, HOOK_RESULTS } from '@nephele/scaling';

/** `PUT /v1/groups/{id}/lifecycle-hooks/{name}`: a hook holding servers (Note [Lifecycle hooks]). */
export class PutLifecycleHookDto {
  @ApiProperty({ enum: HOOK_KINDS, description: 'launching: PENDING:WAIT; terminating: TERMINATING:WAIT' })
  @IsIn(HOOK_KINDS)
  kind!: 'launching' | 'terminating';

  @ApiProperty({
    description: 'Seconds without completion or heartbeat before defaultResult applies',
    minimum: 1,
    maximum: 7200,
  })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1)
  @Max(7200)
  timeout!: number;

  @ApiProperty({ enum: HOOK_RESULTS })
  @IsIn(HOOK_RESULTS)
  defaultResult!: 'CONTINUE' | 'ABANDON';
}

export class LifecycleHookView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: HOOK_KINDS }) kind!: string;
  @ApiProperty({ description: 'seconds' }) timeout!: number;
  @ApiProperty({ enum: HOOK_RESULTS }) defaultResult!: string;
}

export class LifecycleHookListView {
  @ApiProperty({ type: [LifecycleHookView] }) items!: LifecycleHookView[];
  @ApiPropertyOptional({ nullable: true, type: String }) nextCursor!: null;
}

/** `POST /v1/groups/{id}/servers/{sid}/lifecycle-action`: ends a server's wait. */
export class CompleteLifecycleActionDto {
  @ApiProperty({ description: 'The hook the server waits on' })
  @IsString()
  @MaxLength(255)
  @Matches(/\S/)
  hook!: string;

  @ApiProperty({ enum: HOOK_RESULTS })
  @IsIn(HOOK_RESULTS)
  result!: 'CONTINUE' | 'ABANDON';
}

/** `POST /v1/groups/{id}/servers/{sid}/lifecycle-heartbeat`: extends a server's wait. */
export class LifecycleHeartbeatDto {
  @ApiProperty({ description: 'The hook the server waits on' })
  @IsString()
  @MaxLength(255)
  @Matches(/\S/)
  hook!: string;
}

export class LifecycleWaitView {
  @ApiProperty() serverId!: string;
  @ApiProperty() groupId!: string;
  @ApiProperty() hook!: string;
  @ApiProperty({ description: 'PENDING:WAIT | TERMINATING:WAIT' }) lifecycleState!: string;
  @ApiPropertyOptional({ enum: HOOK_RESULTS, description: 'Set once completed; the next pass applies it' })
  result?: string;
  @ApiPropertyOptional({ description: 'When the default result applies unless completed or heartbeated' })
  waitingUntil?: string;
}
