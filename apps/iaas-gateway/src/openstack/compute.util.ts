import type { Request, Response } from 'express';
import { PoolConfig } from '@nephele/broker';
import { baseUrl, OpenStackAuthService, OsContext } from './openstack-auth.service';

// What the Nova controllers (compute, compute-flavors, compute-keypairs) share.

/** The highest compute microversion served: 2.1's representations, which every client speaks. */
export const MAX_MICROVERSION = '2.1';
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Answers the microversion headers Nova answers (the version asked is served as 2.1). */
export function microversion(res: Response): void {
  res.setHeader('OpenStack-API-Version', `compute ${MAX_MICROVERSION}`);
  res.setHeader('X-OpenStack-Nova-API-Version', MAX_MICROVERSION);
  res.setHeader('Vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
}

/** The version document of compute v2.1 in a pool (region). */
export function computeVersion(req: Request, pool: string) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: MAX_MICROVERSION,
    min_version: '2.1',
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${baseUrl(req)}/${pool}/compute/v2.1/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

export type ComputeContext = { c: OsContext; pool: PoolConfig } & Awaited<
  ReturnType<OpenStackAuthService['pool']>
>;

/** Authenticates a Nova request and resolves its pool, answering the microversion headers. */
export async function computeContext(
  auth: OpenStackAuthService,
  req: Request,
  res: Response,
  ref: string,
): Promise<ComputeContext> {
  microversion(res);
  const c = await auth.authenticate(req);
  const r = await auth.pool(c, ref);
  return { c, ...r };
}

/**
 * A keypair's public key handed to the machine in its user data: appended to a `#cloud-config`
 * document's ssh_authorized_keys, or a new one when there is no user data. A `#!` script gets the
 * key as a comment line the local driver reads (`# ssh-authorized-key: …`), as the script runs unchanged.
 */
export function withAuthorizedKey(userData: string | undefined, key: string): string {
  if (!userData) return `#cloud-config\nssh_authorized_keys:\n  - ${key}\n`;
  if (userData.startsWith('#cloud-config')) {
    if (/^ssh_authorized_keys:\s*$/m.test(userData))
      return userData.replace(/^ssh_authorized_keys:\s*$/m, (m) => `${m}\n  - ${key}`);
    return `${userData.replace(/\n?$/, '\n')}ssh_authorized_keys:\n  - ${key}\n`;
  }
  if (userData.startsWith('#!')) {
    const nl = userData.indexOf('\n');
    return nl < 0
      ? `${userData}\n# ssh-authorized-key: ${key}\n`
      : `${userData.slice(0, nl + 1)}# ssh-authorized-key: ${key}\n${userData.slice(nl + 1)}`;
  }
  return userData;
}
