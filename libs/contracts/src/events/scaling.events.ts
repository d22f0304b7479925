import { IsBoolean, IsInt, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineMessage } from '../registry';

export class GroupScaledData {
  @IsString() groupId!: string;
  @IsInt() from!: number;
  @IsInt() to!: number;
  @IsString() @MaxLength(2000) reason!: string;
}
export const GroupScaled = defineMessage({
  type: 'nephele.group.scaled',
  kind: 'event',
  data: GroupScaledData,
  description: 'A scaling group changed its desired capacity.',
});

export class PolicyExecutedData {
  @IsString() groupId!: string;
  @IsString() policyId!: string;
  @IsString() trigger!: string;
  @IsInt() desiredBefore!: number;
  @IsInt() desiredAfter!: number;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}
export const PolicyExecuted = defineMessage({
  type: 'nephele.policy.executed',
  kind: 'event',
  data: PolicyExecutedData,
  description: 'A scaling policy was executed.',
});

export class WebhookDeliveredData {
  @IsString() webhookId!: string;
  @IsOptional() @IsString() groupId?: string;
  @IsOptional() @IsString() serverId?: string;
  @IsInt() attempt!: number;
  @IsOptional() @IsInt() status?: number;
  @IsBoolean() ok!: boolean;
  @IsOptional() @IsString() @MaxLength(2000) error?: string;
}
export const WebhookDelivered = defineMessage({
  type: 'nephele.webhook.delivered',
  kind: 'event',
  data: WebhookDeliveredData,
  description: 'One delivery attempt of a customer webhook.',
});

export class AlarmTriggeredData {
  @IsOptional() @IsString() alarmId?: string;
  @IsObject() labels!: Record<string, string>;
  @IsOptional() @IsString() status?: string;
}
export const AlarmTriggered = defineMessage({
  type: 'nephele.alarm.triggered',
  kind: 'event',
  data: AlarmTriggeredData,
  description: 'A monitoring alarm fired; alarm policies match it by labels.',
});

export class GroupRefreshChangedData {
  /** The group whose servers are being replaced. */
  @IsString() groupId!: string;
  @IsString() refreshId!: string;
  /** running | paused | cancelled | rolling-back | succeeded | rolled-back | failed */
  @IsString() status!: string;
  /** The launch-config version servers move to (the previous one while rolling back). */
  @IsInt() toVersion!: number;
  @IsInt() fromVersion!: number;
  /** Servers of the group already at `toVersion` and healthy. */
  @IsInt() replaced!: number;
  /** Servers the refresh has to bring to `toVersion` (the desired capacity). */
  @IsInt() total!: number;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}
export const GroupRefreshChanged = defineMessage({
  type: 'nephele.group.refresh_changed',
  kind: 'event',
  data: GroupRefreshChangedData,
  description:
    'An instance refresh of a scaling group started, started a batch, paused, resumed, rolled back or ended.',
});

export class GroupLifecycleActionData {
  @IsString() groupId!: string;
  @IsString() serverId!: string;
  /** The hook's name. */
  @IsString() hook!: string;
  /** launching | terminating */
  @IsString() kind!: string;
  /** waiting (the server is held in PENDING:WAIT / TERMINATING:WAIT) | completed */
  @IsString() phase!: string;
  /** CONTINUE | ABANDON, once completed. */
  @IsOptional() @IsString() result?: string;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}
export const GroupLifecycleAction = defineMessage({
  type: 'nephele.group.lifecycle_action',
  kind: 'event',
  data: GroupLifecycleActionData,
  description: 'A server of a scaling group started or ended a wait on a lifecycle hook.',
});
