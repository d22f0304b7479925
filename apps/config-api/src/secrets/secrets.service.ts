import { Inject, Injectable } from '@nestjs/common';
import { SealedSecret, SecretBox } from '@nephele/crypto';
import { ProblemException } from '@nephele/service-kit';
import { ConfigApiConfig } from '../config/env';
import { CONFIG_API_CONFIG } from '../config-api.tokens';

/** Seals and opens provider-account credentials under NEPHELE_MASTER_KEY (see Note [Envelope encryption]). */
@Injectable()
export class SecretsService {
  private readonly box?: SecretBox;

  constructor(@Inject(CONFIG_API_CONFIG) config: ConfigApiConfig) {
    // Validated at start (loadConfigApiConfig): a bad key fails fast, a missing one only disables secrets.
    if (config.masterKey) this.box = new SecretBox(config.masterKey);
  }

  get configured(): boolean {
    return this.box !== undefined;
  }

  private need(): SecretBox {
    if (!this.box) {
      throw new ProblemException(
        503,
        'credentials cannot be stored or read: NEPHELE_MASTER_KEY is not configured on the config-api',
      );
    }
    return this.box;
  }

  seal(recordId: string, value: unknown): SealedSecret {
    return this.need().seal(recordId, value);
  }

  open<T = unknown>(recordId: string, sealed: SealedSecret): T {
    return this.need().open<T>(recordId, sealed);
  }
}
