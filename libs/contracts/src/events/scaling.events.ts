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
