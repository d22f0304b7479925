// Request bodies of the OpenStack-compatible API (Keystone, Nova, Heat subsets), checked once by
// the ValidationPipe (Note [Request DTOs]). OpenStack clients send more than this subset reads
// (Nova's min_count, networks; Heat's files, disable_rollback; Keystone's scope details), so every
// body but a server action drops unknown fields instead of refusing them. A 400 names the field in
// the body each service answers with (OpenStackErrorFilter); what needs the database (does the
// keypair exist, is the template in the subset) stays with the handler.
import { Allow, ArrayMinSize, IsArray, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { AcceptsUnknownFields, Check, Nested } from '@nephele/service-kit';
import { NAME } from '../compute.util';

/** A Heat template_url this subset serves: an appliance's template. */
export const APPLIANCE_URL = /^nephele:appliances\/([^/]+)(?:\/([^/]+))?$/;
const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

// --- Keystone ---------------------------------------------------------------------------------

@AcceptsUnknownFields()
export class TokenCredentialDto {
  @IsString({ message: 'the token method needs an id' }) @MaxLength(4096) id!: string;
}

@AcceptsUnknownFields()
export class ApplicationCredentialDto {
  @IsString({ message: 'the application_credential method needs a secret' })
  @MaxLength(4096)
  secret!: string;
}

@AcceptsUnknownFields()
export class IdentityDto {
  @IsArray({ message: 'Expecting to find auth.identity.methods in the request body.' })
  @ArrayMinSize(1, { message: 'Expecting to find auth.identity.methods in the request body.' })
  @IsString({ each: true, message: 'each method is a name' })
  methods!: string[];

  @IsOptional() @Nested(() => TokenCredentialDto, 'must be {id}') token?: TokenCredentialDto;

  @IsOptional()
  @Nested(() => ApplicationCredentialDto, 'must be {id, secret}')
  application_credential?: ApplicationCredentialDto;
}

@AcceptsUnknownFields()
export class AuthDto {
  @Nested(() => IdentityDto, 'Expecting to find auth.identity in the request body.') identity!: IdentityDto;
  /** `"unscoped"` or `{project: {id | name, domain}}`: which project, checked by the handler (401s). */
  @Allow() scope?: unknown;
}

/** `POST /openstack/identity/v3/auth/tokens`. */
@AcceptsUnknownFields()
export class AuthRequestDto {
  @Nested(() => AuthDto, 'Expecting to find auth in the request body.') auth!: AuthDto;
}

// --- Nova -------------------------------------------------------------------------------------

@AcceptsUnknownFields()
export class ServerCreateDto {
  @Check((v) =>
    typeof v === 'string' && NAME.test(v) ? undefined : "letters, digits, '.', '_', '-' (at most 63)",
  )
  name!: string;

  @IsString({ message: 'required' }) @Check((v) => (v ? undefined : 'required')) imageRef!: string;
  @IsString({ message: 'required' }) @Check((v) => (v ? undefined : 'required')) flavorRef!: string;

  @IsOptional()
  @Check((v) =>
    typeof v === 'string' && /^[A-Za-z0-9+/=\s]*$/.test(v) && v.length <= 87_380
      ? undefined
      : 'base64 of at most 64 KiB',
  )
  user_data?: string | null;

  @IsOptional()
  @Check((v) => {
    if (!isMap(v)) return 'an object';
    const bad = Object.entries(v as object).find(
      ([k, x]) => typeof x !== 'string' || k.length > 255 || x.length > 255,
    );
    return bad ? `${bad[0].slice(0, 64)}: a string of at most 255 characters` : undefined;
  })
  metadata?: Record<string, string>;

  @IsOptional() @IsString() key_name?: string | null;
}

/** `POST …/compute/v2.1/servers`. */
@AcceptsUnknownFields()
export class ServerCreateBodyDto {
  @Nested(() => ServerCreateDto, 'Missing server in the request body') server!: ServerCreateDto;
}

const ACTION = (v: unknown) => (v === null || isMap(v) ? undefined : 'null or an object');

/**
 * `POST …/servers/{id}/action`: exactly one of the served actions. Not lenient: an action outside
 * the subset is refused, naming it.
 */
export class ServerActionDto {
  @IsOptional() @Check(ACTION) 'os-start'?: null | object;
  @IsOptional() @Check(ACTION) 'os-stop'?: null | object;
  @IsOptional() @Check(ACTION) reboot?: { type?: string };
}

/** `POST …/compute/v2.1/os-keypairs`: an imported public key (generating keys is not served). */
@AcceptsUnknownFields()
export class KeypairCreateDto {
  @Check((v) =>
    typeof v === 'string' && /^[A-Za-z0-9 _.@-]{1,255}$/.test(v)
      ? undefined
      : 'letters, digits, spaces and _.@- (1 to 255)',
  )
  name!: string;

  @IsString({ message: 'generating keys is not served; import a public key' })
  @MaxLength(16_384, { message: 'Keypair data is invalid: not an OpenSSH public key' })
  public_key!: string;
}

@AcceptsUnknownFields()
export class KeypairCreateBodyDto {
  @Nested(() => KeypairCreateDto, 'Missing keypair in the request body') keypair!: KeypairCreateDto;
}

// --- Heat -------------------------------------------------------------------------------------

/** `POST …/orchestration/v1/{tenant}/validate`: a template (HOT, as YAML text or JSON) and its values. */
@AcceptsUnknownFields()
export class StackValidateDto {
  /** HOT as a JSON object or YAML text; readHot/validateHot check it (the subset is the handler's). */
  @Allow() template?: unknown;

  @IsOptional() @IsObject({ message: 'parameters must be a map' }) parameters?: Record<string, unknown>;

  @IsOptional()
  @IsObject({ message: 'environment must be a map' })
  environment?: { parameters?: object; parameter_defaults?: object; [section: string]: unknown };
}

/** `POST …/orchestration/v1/{tenant}/stacks`. */
@AcceptsUnknownFields()
export class StackCreateDto extends StackValidateDto {
  @Check((v) =>
    typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/.test(v)
      ? undefined
      : 'stack_name must start with a letter and contain only letters, digits, "_", "-" and "."',
  )
  stack_name!: string;

  @Check((v, o) => {
    if (v === undefined) return o.template === undefined ? 'a template is required' : undefined;
    return typeof v === 'string' && APPLIANCE_URL.test(v) && o.template === undefined
      ? undefined
      : 'template_url may only name an appliance (nephele:appliances/<appliance>[/<implementation>]); send other templates themselves';
  })
  template_url?: string;
}
