import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { defineMessage } from '../registry';

// Requests the config-api answers on `nephele.commands` (request/reply, ARCHITECTURE §1).

export class TokenIntrospectData {
  /** The bearer token as the caller received it. */
  @IsString() @MaxLength(512) token!: string;
}
/** Reply: `Principal` `{tokenId, role, project?}`, or null for an unknown or revoked token. */
export const TokenIntrospect = defineMessage({
  type: 'nephele.config.token.introspect',
  kind: 'command',
  data: TokenIntrospectData,
  transient: true,
  description: 'Resolve a bearer token to its principal (config-api).',
});

export class ConfigExportData {
  /** Only this project's project-owned resources (global ones are always included). */
  @IsOptional() @IsUUID() project?: string;
}
/** Reply: `BrokerConfigSnapshot` (@nephele/broker): providers, profiles, realms, accounts without credentials, families, pools, hardware profiles, images, image mappings. */
export const ConfigExport = defineMessage({
  type: 'nephele.config.export',
  kind: 'command',
  data: ConfigExportData,
  transient: true,
  description: 'The whole broker configuration without secrets (config-api).',
});

export class AccountCredentialsData {
  @IsUUID() accountId!: string;
}
/** Reply: `{accountId, providerId, credentials}` with the decrypted credentials object (null when none are stored). */
export const AccountCredentials = defineMessage({
  type: 'nephele.config.account.credentials',
  kind: 'command',
  data: AccountCredentialsData,
  transient: true,
  description: "A provider account's decrypted credentials, for the iaas-gateway only (config-api).",
});

/** Names of config-api resources (appliances, pools, images, …): 1-128 characters, starting with a letter or digit. */
export const RESOURCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

export class ApplianceResolveData {
  /** Only this project's appliances. */
  @IsOptional() @IsString() project?: string;
  /** Appliance id or name. */
  @IsString() @MaxLength(200) appliance!: string;
  /** An implementation id; default: the newest implementation of the appliance. */
  @IsOptional() @IsString() implementation?: string;
}
/** Reply: `{appliance: {id, name, project}, implementation: {id, providerId, templateVersion, templateFormat, template, parameters, outputs}}` or null. */
export const ApplianceResolve = defineMessage({
  type: 'nephele.config.appliance.resolve',
  kind: 'command',
  data: ApplianceResolveData,
  transient: true,
  description: 'An appliance and one of its implementations (the template a cluster is made from).',
});

export class ProjectResolveData {
  /** A project id or name. */
  @IsString() @MaxLength(200) project!: string;
}
/** Reply: `{id, name}` of the project with that id or name, or null. */
export const ProjectResolve = defineMessage({
  type: 'nephele.config.project.resolve',
  kind: 'command',
  data: ProjectResolveData,
  transient: true,
  description: 'A project by id or name (config-api), e.g. for OpenStack project scopes by name.',
});
