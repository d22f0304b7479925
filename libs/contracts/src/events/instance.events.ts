import { IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineMessage } from '../registry';

export const INSTANCE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'rebooting',
  'terminating',
  'terminated',
  'error',
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export class InstanceStateChangedData {
  @IsString() instanceId!: string;
  @IsOptional() @IsIn(INSTANCE_STATES) from?: InstanceState;
  @IsIn(INSTANCE_STATES) to!: InstanceState;
  @IsString() @MaxLength(1000) reason!: string;
  @IsOptional() @IsString() owner?: string;
  @IsOptional() @IsString() pool?: string;
  @IsOptional() @IsString() providerAccountId?: string;
  @IsOptional() @IsString() providerInstanceId?: string;
  @IsOptional() @IsArray() addresses?: string[];
  @IsOptional() @IsInt() version?: number;
}
export const InstanceStateChanged = defineMessage({
  type: 'nephele.instance.state_changed',
  kind: 'event',
  data: InstanceStateChangedData,
  description: 'An instance moved from one state to another, with the reason.',
});

export class InstanceVanishedData {
  @IsString() instanceId!: string;
  @IsString() providerAccountId!: string;
  @IsOptional() @IsString() providerInstanceId?: string;
  @IsOptional() @IsString() lastState?: string;
  @IsOptional() @IsString() owner?: string;
}
export const InstanceVanished = defineMessage({
  type: 'nephele.instance.vanished',
  kind: 'event',
  data: InstanceVanishedData,
  description: 'An instance known to Nephele is gone at its provider.',
});

export class InstanceOrphanData {
  @IsString() providerAccountId!: string;
  @IsString() providerInstanceId!: string;
  @IsOptional() @IsString() state?: string;
}
export const InstanceOrphanDetected = defineMessage({
  type: 'nephele.instance.orphan_detected',
  kind: 'event',
  data: InstanceOrphanData,
  description: 'An instance exists at a provider that Nephele does not know.',
});

export class LaunchResultData {
  @IsString() instanceId!: string;
  @IsString() owner!: string;
  @IsString() idempotencyKey!: string;
  @IsOptional() @IsString() providerAccountId?: string;
  @IsOptional() @IsString() providerInstanceId?: string;
  @IsOptional() @IsString() pool?: string;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
  @IsOptional() @IsArray() addresses?: string[];
  @IsOptional() @IsInt() epoch?: number;
  /** The state the provider reported right after the create call. */
  @IsOptional() @IsIn(INSTANCE_STATES) state?: InstanceState;
  @IsOptional() @IsString() project?: string;
  @IsOptional() @IsString() image?: string;
  @IsOptional() @IsString() hardwareProfile?: string;
  @IsOptional() @IsString() name?: string;
}
export const LaunchSucceeded = defineMessage({
  type: 'nephele.instance.launch_succeeded',
  kind: 'event',
  data: LaunchResultData,
  description: 'The gateway launched an instance at a provider.',
});
export const LaunchFailed = defineMessage({
  type: 'nephele.instance.launch_failed',
  kind: 'event',
  data: LaunchResultData,
  description: 'The gateway could not launch an instance on any candidate.',
});

export class ProviderEventData {
  @IsString() feedId!: string;
  @IsString() entryId!: string;
  /** The provider account the feed belongs to (set on the feed), so the tracker can find the instance. */
  @IsOptional() @IsString() providerAccountId?: string;
  @IsOptional() @IsString() providerInstanceId?: string;
  @IsOptional() @IsString() eventType?: string;
  @IsOptional() @IsString() state?: string;
  @IsOptional() @IsString() updated?: string;
  @IsOptional() @IsObject() details?: Record<string, unknown>;
}
export const InstanceProviderEvent = defineMessage({
  type: 'nephele.instance.provider_event',
  kind: 'event',
  data: ProviderEventData,
  description: 'A server event read from a provider Atom feed.',
});
