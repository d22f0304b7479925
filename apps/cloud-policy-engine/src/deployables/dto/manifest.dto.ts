import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

// Nephele's own deployable format (YAML or JSON), as in shared/examples/shop.deployable.yaml.
// Unknown fields are refused (the validation pipe runs with forbidNonWhitelisted).

const NAME = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;
const NAME_MSG = {
  message:
    'must be lower-case letters, digits, "-" or "_" (at most 63), starting and ending with a letter or digit',
};
const DURATION = /^\d+(\.\d+)?(ms|s|m|h|d)?$/;

export class EscalationDto {
  @IsInt() @Min(1) @Max(1000) failures!: number;
  /** A duration (`60s`, `10m`) or seconds. */
  @Matches(DURATION, { message: 'period must be a duration like 60s or 10m' }) period!: string;
}

export class BackoffDto {
  /** First delay between two recovery attempts (then doubling). */
  @Matches(DURATION, { message: 'initial must be a duration like 1s' }) initial!: string;
  /** Longest delay. */
  @Matches(DURATION, { message: 'max must be a duration like 60s' }) max!: string;
}

/** Recovery budgets of the whole deployable (defaults for its services and assemblies). */
export class RecoveryDto {
  @IsOptional() @ValidateNested() @Type(() => EscalationDto) escalation?: EscalationDto;
  @IsOptional() @ValidateNested() @Type(() => EscalationDto) assemblyEscalation?: EscalationDto;
  @IsOptional() @IsInt() @Min(0) @Max(1000) moves?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1000) launchAttempts?: number;
  @IsOptional() @ValidateNested() @Type(() => BackoffDto) backoff?: BackoffDto;
}

export class HttpCheckDto {
  @IsInt() @Min(1) @Max(65535) port!: number;
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @Matches(/^\//, { message: 'path must start with /' })
  path?: string;
}

export class TcpCheckDto {
  @IsInt() @Min(1) @Max(65535) port!: number;
}

export class ServiceMonitorDto {
  @IsOptional() @Matches(DURATION, { message: 'interval must be a duration like 5s' }) interval?: string;
  @IsOptional() @Matches(DURATION, { message: 'timeout must be a duration like 2s' }) timeout?: string;
  @IsOptional() @ValidateNested() @Type(() => HttpCheckDto) http?: HttpCheckDto;
  @IsOptional() @ValidateNested() @Type(() => TcpCheckDto) tcp?: TcpCheckDto;
}

export class PlacementDto {
  @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) assemblies!: string[];
}

export class ServiceDto {
  @Matches(NAME, NAME_MSG) name!: string;
  @IsIn(['process', 'systemd', 'lsb', 'ocf']) class!: 'process' | 'systemd' | 'lsb' | 'ocf';
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,100}$/, { message: 'provider must be a plain name' })
  provider?: string;
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9@_.:+-]{1,200}$/, { message: 'type must be a plain name' })
  type?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(8192, { each: true })
  command?: string[];
  /** Literals, or `{ref: {assembly, parameter}}`. */
  @IsOptional() @IsObject() parameters?: Record<string, unknown>;
  @IsOptional() @ValidateNested() @Type(() => ServiceMonitorDto) monitor?: ServiceMonitorDto;
  @IsOptional() @ValidateNested() @Type(() => EscalationDto) escalation?: EscalationDto;
  @IsOptional() @ValidateNested() @Type(() => PlacementDto) placement?: PlacementDto;
  @IsOptional() @IsInt() @Min(-1000) @Max(1000) priority?: number;
  @IsOptional() @IsBoolean() enabled?: boolean;
  /** How long start may take, checks included (default max(20s, monitor timeout)). */
  @IsOptional()
  @Matches(DURATION, { message: 'startTimeout must be a duration like 30s' })
  startTimeout?: string;
  /** How long stop may take before the process is killed / the stop counts as failed. */
  @IsOptional()
  @Matches(DURATION, { message: 'stopTimeout must be a duration like 10s' })
  stopTimeout?: string;
  @IsOptional() @ValidateNested() @Type(() => BackoffDto) backoff?: BackoffDto;
}

export class AssemblyDto {
  @Matches(NAME, NAME_MSG) name!: string;
  @IsString() @MaxLength(200) image!: string;
  @IsString() @MaxLength(200) hardwareProfile!: string;
  @IsOptional() @ValidateNested() @Type(() => EscalationDto) escalation?: EscalationDto;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => ServiceDto)
  services?: ServiceDto[];
}

export class OrderDto {
  @IsString() @MaxLength(200) first!: string;
  @IsString() @MaxLength(200) then!: string;
}

export class ColocationDto {
  @IsString() service!: string;
  @IsString() with!: string;
  @IsOptional() score?: number | string;
}

export class LocationDto {
  @IsString() service!: string;
  @IsString() assembly!: string;
  @IsOptional() score?: number | string;
}

export class ConstraintDto {
  @IsOptional() @IsString() id?: string;
  @IsOptional() @ValidateNested() @Type(() => OrderDto) order?: OrderDto;
  @IsOptional() @ValidateNested() @Type(() => ColocationDto) colocation?: ColocationDto;
  @IsOptional() @ValidateNested() @Type(() => LocationDto) location?: LocationDto;
}

/**
 * A service group: services of one assembly (`<assembly>/<service>`) that run together, start in
 * the order listed and stop in reverse; when one of them escalates, the whole group moves.
 */
export class GroupDto {
  /** Unique among the groups. */
  @Matches(NAME, NAME_MSG) name!: string;
  /** `<assembly>/<service>` ids, all on one assembly, in start order; a service is in at most one group. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  services!: string[];
}

/** A clone's service written in place: a service definition whose name defaults to the clone's. */
export class CloneServiceDto extends ServiceDto {}
// Its `name` may be left out (the clone's name then): the inherited checks apply only when given.
IsOptional()(CloneServiceDto.prototype, 'name');

/**
 * A clone: one service that runs on every listed assembly, one instance each (`<assembly>/<service>`),
 * each pinned to its assembly: an instance whose assembly is lost stays stopped until it is replaced.
 */
export class CloneDto {
  /** Unique among the clones and groups. */
  @Matches(NAME, NAME_MSG) name!: string;
  /**
   * The service: a definition as under `assemblies[].services[]` (its `name` defaults to the clone's;
   * no `placement`), or the id `<assembly>/<service>` of a declared service, which then runs as the clone.
   */
  @IsDefined() service!: CloneServiceDto | string;
  /** The assemblies it runs on, one instance each. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  assemblies!: string[];
}

export class DeployableMonitorDto {
  @IsOptional()
  @Matches(DURATION, { message: 'heartbeatInterval must be a duration like 1s' })
  heartbeatInterval?: string;
  @IsOptional() @IsInt() @Min(1) @Max(100) missedHeartbeats?: number;
}

export class DeployableManifestDto {
  @IsOptional() @IsIn(['nephele/v1']) apiVersion?: string;
  @IsOptional() @IsIn(['Deployable']) kind?: string;
  @Matches(NAME, NAME_MSG) name!: string;
  @IsOptional() @IsString() @MaxLength(200) pool?: string;
  @IsOptional() @ValidateNested() @Type(() => DeployableMonitorDto) monitor?: DeployableMonitorDto;
  @IsOptional() @ValidateNested() @Type(() => RecoveryDto) recovery?: RecoveryDto;
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => AssemblyDto)
  assemblies!: AssemblyDto[];
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ConstraintDto)
  constraints?: ConstraintDto[];
  /** Service groups (Pacemaker groups): run together on one assembly, start in order, stop in reverse. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => GroupDto)
  groups?: GroupDto[];
  /** Clones: a service on every assembly of a set, one instance each, each pinned to its assembly. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => CloneDto)
  clones?: CloneDto[];
}
