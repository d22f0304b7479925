import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { defineMessage } from '../registry';
import { INSTANCE_STATES, InstanceState } from './instance.events';

export const INSTANCE_ACTIONS = ['destroy', 'start', 'stop', 'reboot'] as const;
export type InstanceAction = (typeof INSTANCE_ACTIONS)[number];

export class InstanceActionCompletedData {
  @IsString() instanceId!: string;
  @IsIn(INSTANCE_ACTIONS) action!: InstanceAction;
  @IsBoolean() ok!: boolean;
  @IsString() @MaxLength(2000) reason!: string;
  @IsOptional() @IsString() owner?: string;
  @IsOptional() @IsString() providerAccountId?: string;
  @IsOptional() @IsString() providerInstanceId?: string;
  @IsOptional() @IsInt() epoch?: number;
  /** The instance's state after the action, as the provider reported it. */
  @IsOptional() @IsIn(INSTANCE_STATES) state?: InstanceState;
}
export const InstanceActionCompleted = defineMessage({
  type: 'nephele.instance.action_completed',
  kind: 'event',
  data: InstanceActionCompletedData,
  description: 'The gateway carried out (or could not carry out) an action on an instance.',
});

export class SelectionCandidateData {
  @IsString() providerAccountId!: string;
  @IsOptional() @IsString() providerProfileId?: string;
  @IsBoolean() kept!: boolean;
  @IsString() @MaxLength(1000) reason!: string;
  @IsOptional() score?: number;
}

export class SelectionDecidedData {
  @IsString() idempotencyKey!: string;
  @IsString() owner!: string;
  @IsString() pool!: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => SelectionCandidateData)
  candidates!: SelectionCandidateData[];
  @IsOptional() @IsString() chosen?: string;
  @IsInt() attempt!: number;
  @IsString() @MaxLength(2000) reason!: string;
}
export const SelectionDecided = defineMessage({
  type: 'nephele.instance.selection_decided',
  kind: 'event',
  data: SelectionDecidedData,
  description: 'Provider selection for a launch: every candidate kept or dropped, and why.',
});

/** An instance as a provider reports it (the gateway's answer to a list request). */
export class ProviderInstanceView {
  @IsString() id!: string;
  @IsOptional() @IsString() name?: string;
  @IsIn(INSTANCE_STATES) state!: InstanceState;
  @IsArray() addresses!: string[];
  @IsOptional() @IsString() createdAt?: string;
  @IsOptional() @IsString() updatedAt?: string;
  @IsOptional() @IsObject() metadata?: Record<string, string>;
  @IsOptional() @IsString() idempotencyKey?: string;
}

export class ListAccountInstancesData {
  @IsString() providerAccountId!: string;
  @IsOptional() @IsString() since?: string;
}
/** Request to the gateway: one batched list call at the provider for one account. */
export const ListAccountInstances = defineMessage({
  type: 'nephele.iaas.account.list_instances',
  kind: 'command',
  data: ListAccountInstancesData,
  description: 'List an account’s instances at its provider (request/reply; reply {instances, at}).',
});
export interface ListAccountInstancesReply {
  instances: ProviderInstanceView[];
  at: string;
}

export class InstanceQueryData {
  @IsOptional() @IsString() id?: string;
  @IsOptional() @IsString() pool?: string;
  @IsOptional() @IsString() project?: string;
  @IsOptional() @IsString() ownerPrefix?: string;
  @IsOptional() @IsBoolean() includeTerminated?: boolean;
}
/** Request to the state tracker: instances matching a filter (reply `{items: InstanceView[]}`, at most 1000). */
export const InstanceQuery = defineMessage({
  type: 'nephele.tracker.instance.query',
  kind: 'command',
  data: InstanceQueryData,
  transient: true,
  description: 'Read instances from the state tracker (request/reply).',
});
