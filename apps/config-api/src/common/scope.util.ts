import { Principal, ProblemException } from '@nephele/service-kit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}

/** The project whose rows a principal may see; undefined = every project (admin). */
export function visibleProject(p: Principal): string | undefined {
  return p.role === 'admin' ? undefined : (p.project ?? '00000000-0000-0000-0000-000000000000');
}

/** Whether a row of `project` is visible to `p` (see DEVELOPING.md: another project's object is a 404). */
export function canSee(p: Principal, project: string | null | undefined): boolean {
  return p.role === 'admin' || (!!project && project === p.project);
}

/**
 * The project a new project-owned resource goes into: an admin must name it; a scoped token acts in
 * its own project (naming another one is treated like naming a missing one).
 */
export function targetProject(p: Principal, requested: string | undefined): string {
  if (p.role === 'admin') {
    if (!requested) {
      throw ProblemException.badRequest('validation failed', [
        { field: 'project', message: 'an admin token must name the project the resource belongs to' },
      ]);
    }
    return requested;
  }
  if (requested !== undefined && requested !== p.project) throw noSuchProject();
  return p.project!;
}

export function noSuchProject(): ProblemException {
  return ProblemException.badRequest('validation failed', [{ field: 'project', message: 'no such project' }]);
}
