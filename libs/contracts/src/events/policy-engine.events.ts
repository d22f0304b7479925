import {
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Min,
} from 'class-validator';
import { defineMessage } from '../registry';

export class AssemblyHeartbeatData {
  @IsString() assemblyId!: string;
  @IsOptional() @IsString() deployableId?: string;
  @IsOptional() @IsInt() @Min(0) seq?: number;
  @IsOptional() @IsISO8601() sentAt?: string;
  @IsOptional() @IsObject() services?: Record<string, string>;
}
export const AssemblyHeartbeat = defineMessage({
  type: 'nephele.assembly.heartbeat',
  kind: 'event',
  data: AssemblyHeartbeatData,
  transient: true,
  description: 'An agent is alive (transient; not stored by the event log by default).',
});

export class AssemblyEventData {
  @IsString() assemblyId!: string;
  @IsString() deployableId!: string;
  @IsOptional() @IsString() assembly?: string;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
  @IsOptional() @IsInt() missed?: number;
  @IsOptional() @IsString() lastSeen?: string;
  @IsOptional() @IsInt() epoch?: number;
}
export const AssemblyHeartbeatMissed = defineMessage({
  type: 'nephele.assembly.heartbeat_missed',
  kind: 'event',
  data: AssemblyEventData,
  description: 'An assembly missed heartbeats.',
});
export const AssemblyFailed = defineMessage({
  type: 'nephele.assembly.failed',
  kind: 'event',
  data: AssemblyEventData,
  description: 'An assembly is considered failed.',
});
export const AssemblyRecovered = defineMessage({
  type: 'nephele.assembly.recovered',
  kind: 'event',
  data: AssemblyEventData,
  description: 'A failed assembly is healthy again.',
});

export class ServiceEventData {
  @IsString() deployableId!: string;
  @IsString() assemblyId!: string;
  @IsString() service!: string;
  @IsOptional() @IsString() assembly?: string;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
  @IsOptional() @IsInt() exitCode?: number;
  @IsOptional() @IsInt() epoch?: number;
}
export const ServiceFailed = defineMessage({
  type: 'nephele.service.failed',
  kind: 'event',
  data: ServiceEventData,
  description: 'A service failed its monitor or exited.',
});
export const ServiceStarted = defineMessage({
  type: 'nephele.service.started',
  kind: 'event',
  data: ServiceEventData,
  description: 'A service was started on its assembly.',
});
export const ServiceStopped = defineMessage({
  type: 'nephele.service.stopped',
  kind: 'event',
  data: ServiceEventData,
  description: 'A service was stopped on its assembly.',
});

export const DEPLOYABLE_STATUSES = [
  'starting',
  'running',
  'degraded',
  'recovering',
  'failed',
  'stopped',
] as const;
export type DeployableStatus = (typeof DEPLOYABLE_STATUSES)[number];

export class DeployableStatusChangedData {
  @IsString() deployableId!: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsIn(DEPLOYABLE_STATUSES) from?: DeployableStatus;
  @IsIn(DEPLOYABLE_STATUSES) to!: DeployableStatus;
  @IsString() @MaxLength(2000) reason!: string;
  @IsOptional() @IsInt() epoch?: number;
}
export const DeployableStatusChanged = defineMessage({
  type: 'nephele.deployable.status_changed',
  kind: 'event',
  data: DeployableStatusChangedData,
  description: 'A deployable changed status.',
});

export class DpeEventData {
  @IsString() deployableId!: string;
  @IsInt() @Min(0) epoch!: number;
  @IsOptional() @IsString() workerId?: string;
  @IsOptional() @IsInt() pid?: number;
  @IsOptional() @IsString() @MaxLength(2000) reason?: string;
  @IsOptional() @IsArray() deployables?: string[];
}
export const DpeStarted = defineMessage({
  type: 'nephele.dpe.started',
  kind: 'event',
  data: DpeEventData,
  description: 'A DPE started for a deployable under a new epoch.',
});
export const DpeHeartbeat = defineMessage({
  type: 'nephele.dpe.heartbeat',
  kind: 'event',
  data: DpeEventData,
  transient: true,
  description: 'A DPE is alive.',
});
export const DpeDied = defineMessage({
  type: 'nephele.dpe.died',
  kind: 'event',
  data: DpeEventData,
  description: 'A DPE exited or missed its heartbeats.',
});

export class AgentMessageRefusedData {
  @IsString() deployableId!: string;
  /** The assembly the message claimed to come from (or be for). */
  @IsOptional() @IsString() @MaxLength(200) assemblyId?: string;
  /** heartbeat | service-status | command-refused | command | … */
  @IsOptional() @IsString() @MaxLength(100) kind?: string;
  @IsString() @MaxLength(2000) reason!: string;
  /** How many were refused for the same reason since the last such event (they are rate-limited). */
  @IsOptional() @IsInt() @Min(1) count?: number;
  @IsOptional() @IsInt() epoch?: number;
}
export const AgentMessageRefused = defineMessage({
  type: 'nephele.audit.agent.refused',
  kind: 'event',
  data: AgentMessageRefusedData,
  description:
    'An agent-protocol message was refused: not signed with the credential of the assembly it names (forged), or otherwise not acceptable.',
});
