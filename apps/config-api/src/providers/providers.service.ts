import { Injectable } from '@nestjs/common';
import { ProblemException } from '@nephele/service-kit';
import { ChangeRecorder } from '../common/change-recorder';
import { ResourceRepository } from '../common/resource.repository';
import { ResourceService } from '../common/resource.service';
import { PROVIDER_PROFILES, PROVIDERS, REALMS } from './providers.resource';

const SECRET_KEY = /(password|secret|token|credential|apikey|api_key|privatekey|private_key|passphrase)/i;

function secretKeys(v: unknown, path: string, out: string[]): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = `${path}.${k}`;
      if (SECRET_KEY.test(k)) out.push(p);
      secretKeys(x, p, out);
    }
  }
  return out;
}

@Injectable()
export class ProvidersService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, PROVIDERS, {
      // Provider options are public configuration: secrets stored there would be returned and audited.
      prepare: (ctx) => {
        const bad = secretKeys(ctx.dto.options, 'options', []);
        if (bad.length) {
          throw ProblemException.badRequest(
            'validation failed',
            bad.map((field) => ({
              field,
              message: "secrets belong in a provider account's credentials, not in provider options",
            })),
          );
        }
      },
    });
  }
}

@Injectable()
export class ProviderProfilesService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, PROVIDER_PROFILES);
  }
}

@Injectable()
export class RealmsService extends ResourceService {
  constructor(repo: ResourceRepository, changes: ChangeRecorder) {
    super(repo, changes, REALMS);
  }
}
