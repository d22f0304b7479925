import { IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { defineMessage } from '../registry';

export class ConfigChangedData {
  /** Resource kind, e.g. `pools`, `provider-accounts`. */
  @IsString() @MaxLength(100) resource!: string;
  @IsString() @MaxLength(200) id!: string;
  @IsIn(['created', 'updated', 'deleted']) action!: 'created' | 'updated' | 'deleted';
  @IsOptional() @IsString() project?: string;
  @IsOptional() @IsInt() version?: number;
}
export const ConfigChanged = defineMessage({
  type: 'nephele.config.changed',
  kind: 'event',
  data: ConfigChangedData,
  description: 'A configuration resource was created, updated or deleted.',
});

export class AuditData {
  /** Who acted: a token id, `bootstrap`, or `system`. */
  @IsString() @MaxLength(200) actor!: string;
  @IsString() @MaxLength(100) action!: string;
  @IsString() @MaxLength(100) resource!: string;
  @IsOptional() @IsString() resourceId?: string;
  @IsOptional() @IsString() project?: string;
  /** Secrets are redacted before they get here. */
  @IsOptional() @IsObject() before?: Record<string, unknown>;
  @IsOptional() @IsObject() after?: Record<string, unknown>;
}
export const Audit = defineMessage({
  type: 'nephele.audit.*',
  kind: 'event',
  data: AuditData,
  description: 'nephele.audit.<action>: who changed what, with before/after (secrets redacted).',
});
