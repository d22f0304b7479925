import { Principal, ProblemException } from '@nephele/service-kit';
import { Db } from '@nephele/persistence';
import { isUuid } from './scope.util';

// Note [Host drivers]
// A driver kind that runs its instances as processes of the control-plane host (`local`) hands
// whoever launches on it a command on that host: an image mapped to the agent, then a `process`
// service, is `sh -c …` as the control plane's user. Such providers are admin-only infrastructure:
// an admin may create an account on one in a project (sharing its pools with that project's
// members), but only an admin creates, changes or maps images onto accounts of such kinds.

/** Driver kinds whose instances are processes on the control-plane host. */
export const HOST_PROCESS_KINDS: ReadonlySet<string> = new Set(['local']);

function refuse(field: string, kind: string): never {
  throw new ProblemException(
    403,
    `providers of kind ${kind} run processes on the control-plane host: only an admin token may do this`,
    { errors: [{ field, message: `a ${kind} provider is admin-only infrastructure` }] },
  );
}

/** Where the driver kinds come from (ProviderAccountsRepository). */
export interface DriverKinds {
  providerKind(db: Db, providerId: string): Promise<string | undefined>;
  accountProviderKind(db: Db, accountId: string): Promise<string | undefined>;
}

/** Refuses a non-admin write to an account of a host-process provider. */
export async function refuseHostProvider(
  kinds: DriverKinds,
  db: Db,
  p: Principal,
  providerId: unknown,
  field = 'providerId',
): Promise<void> {
  if (p.role === 'admin' || !isUuid(providerId)) return;
  const kind = await kinds.providerKind(db, providerId);
  if (kind && HOST_PROCESS_KINDS.has(kind)) refuse(field, kind);
}

/** Refuses a non-admin image mapping onto an account of a host-process provider. */
export async function refuseHostAccount(
  kinds: DriverKinds,
  db: Db,
  p: Principal,
  accountId: unknown,
  field = 'accountId',
): Promise<void> {
  if (p.role === 'admin' || !isUuid(accountId)) return;
  const kind = await kinds.accountProviderKind(db, accountId);
  if (kind && HOST_PROCESS_KINDS.has(kind)) refuse(field, kind);
}
