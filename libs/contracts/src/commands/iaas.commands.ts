import { IsInt, IsObject, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { defineMessage } from '../registry';

/** Who asked for an instance: `deployable:<id>/<assembly>`, `group:<id>`, `cimi:<project>`. */
export class InstanceCreateData {
  @IsString() @MaxLength(300) owner!: string;
  /** The same key never makes a second instance. */
  @IsString() @MaxLength(300) idempotencyKey!: string;
  @IsString() pool!: string;
  @IsString() image!: string;
  @IsString() hardwareProfile!: string;
  @IsOptional() @IsString() project?: string;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() @MaxLength(65536) userData?: string;
  @IsOptional() @IsObject() metadata?: Record<string, string>;
  /** The DPE epoch (fencing); a stale one is refused. */
  @IsOptional() @IsInt() @Min(0) epoch?: number;
}
export const InstanceCreate = defineMessage({
  type: 'nephele.iaas.instance.create',
  kind: 'command',
  data: InstanceCreateData,
  description: 'Launch an instance in a pool.',
});

export class InstanceActionData {
  @IsString() instanceId!: string;
  @IsString() @MaxLength(300) owner!: string;
  @IsOptional() @IsString() idempotencyKey?: string;
  @IsOptional() @IsInt() @Min(0) epoch?: number;
  @IsOptional() @IsString() @MaxLength(1000) reason?: string;
}
export const InstanceDestroy = defineMessage({
  type: 'nephele.iaas.instance.destroy',
  kind: 'command',
  data: InstanceActionData,
  description: 'Destroy an instance.',
});
export const InstanceStart = defineMessage({
  type: 'nephele.iaas.instance.start',
  kind: 'command',
  data: InstanceActionData,
  description: 'Start a stopped instance.',
});
export const InstanceStop = defineMessage({
  type: 'nephele.iaas.instance.stop',
  kind: 'command',
  data: InstanceActionData,
  description: 'Stop an instance.',
});
export const InstanceReboot = defineMessage({
  type: 'nephele.iaas.instance.reboot',
  kind: 'command',
  data: InstanceActionData,
  description: 'Reboot an instance.',
});
