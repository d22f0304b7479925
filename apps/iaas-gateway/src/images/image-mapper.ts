import { BrokerConfigSnapshot, ImageConfig, ProviderAccountConfig } from '@nephele/broker';

/**
 * Resolves a broker image to the provider image id of one account (ARCHITECTURE §4:
 * `ImageMapper.resolve(image, providerAccount) → providerImage`). Undefined: no mapping.
 */
export interface ImageMapper {
  resolve(
    image: ImageConfig,
    account: ProviderAccountConfig,
    snapshot: BrokerConfigSnapshot,
  ): Promise<string | undefined>;
}

/** The default: the config-api's image-mappings table. */
export class TableImageMapper implements ImageMapper {
  async resolve(
    image: ImageConfig,
    account: ProviderAccountConfig,
    snapshot: BrokerConfigSnapshot,
  ): Promise<string | undefined> {
    return snapshot.imageMappings.find((m) => m.imageId === image.id && m.accountId === account.id)
      ?.providerImageId;
  }
}

/**
 * An HTTP callout: `POST <url>` with `{image: {id, name, os, arch}, account: {id, name, providerId}}`;
 * a 200 `{providerImageId}` maps, a 404 means no mapping. Answers are cached for a minute.
 */
export class HttpImageMapper implements ImageMapper {
  private readonly cache = new Map<string, { at: number; id: string | undefined }>();
  constructor(private readonly url: string) {}

  async resolve(image: ImageConfig, account: ProviderAccountConfig): Promise<string | undefined> {
    const key = `${image.id}/${account.id}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < 60_000) return hit.id;
    const r = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        image: { id: image.id, name: image.name, os: image.os, arch: image.arch },
        account: { id: account.id, name: account.name, providerId: account.providerId },
      }),
      signal: AbortSignal.timeout(5000),
    });
    let id: string | undefined;
    if (r.status === 404) id = undefined;
    else if (r.ok) {
      const body = (await r.json()) as { providerImageId?: unknown };
      id =
        typeof body.providerImageId === 'string' && body.providerImageId ? body.providerImageId : undefined;
    } else throw new Error(`image mapper ${this.url} answered ${r.status}`);
    this.cache.set(key, { at: Date.now(), id });
    return id;
  }
}

/** `NEPHELE_IMAGE_MAPPER`: `table`, an `http(s)://` URL, or a module exporting `createImageMapper()` or a default ImageMapper. */
export async function createImageMapper(spec: string): Promise<ImageMapper> {
  if (spec === 'table') return new TableImageMapper();
  if (/^https?:\/\//.test(spec)) return new HttpImageMapper(spec);
  const mod = (await import(require.resolve(spec, { paths: [process.cwd()] }))) as {
    createImageMapper?: () => ImageMapper | Promise<ImageMapper>;
    default?: ImageMapper;
  };
  const mapper = mod.createImageMapper ? await mod.createImageMapper() : mod.default;
  if (!mapper || typeof mapper.resolve !== 'function') {
    throw new Error(
      `NEPHELE_IMAGE_MAPPER module ${spec} exports neither createImageMapper() nor a default ImageMapper`,
    );
  }
  return mapper;
}
