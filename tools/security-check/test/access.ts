import { randomBytes, randomUUID } from 'node:crypto';
import { Answer, isProblem, send } from './http';
import {
  fill,
  isCapabilityWebhook,
  isOperational,
  isProviderCallback,
  isStream,
  isWrite,
  paramKeys,
  Route,
  routeName,
} from './routes';
import { Seeded } from './seed';
import { World } from './world';

/** One check of the access matrix. */
export interface AccessRow {
  route: string;
  check: string;
  expected: string;
  got: number;
  ok: boolean;
  note?: string;
}

const ADMIN_ONLY = /needs an admin token/;
/** GET routes of sub-resources that exist only after an action, with what their own 404 names. */
const OPTIONAL_SUBRESOURCES = new Map([['GET /v1/groups/{id}/refresh', /^refresh of group /]]);
const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
/** A problem body with the ids taken out: what must not tell another project's object from a missing one. */
const shape = (a: Answer) => {
  const p = (a.json ?? {}) as Record<string, unknown>;
  return JSON.stringify({
    status: a.status,
    type: p.type,
    title: p.title,
    detail: String(p.detail ?? '').replace(UUIDS, '<id>'),
    errors: p.errors,
  });
};

/**
 * The route access matrix, generated from the services' OpenAPI routes: no token → 401 (public
 * routes excepted), a viewer's write → 403, project B's member on project A's objects → 404 exactly
 * like a random id (admin-only routes: 403 or 404), never a 2xx or a 5xx where access is refused.
 */
export async function accessMatrix(w: World, s: Seeded, routes: Route[]): Promise<AccessRow[]> {
  const rows: AccessRow[] = [];
  const projectOwned = new Set(Object.keys(s.a));
  const fixed = {
    ':op': 'start',
    ':version': '1',
    ':server': randomUUID(),
    ':capability': randomBytes(32).toString('hex'),
    ':provider': s.a['provider-accounts']!,
  };
  const ids = { ...s.global, ...s.a, ...fixed };
  const randomIds = {
    ...s.global,
    ...fixed,
    ...Object.fromEntries(Object.keys(s.a).map((k) => [k, randomUUID()])),
  };
  const bodyOf = (r: Route) =>
    s.validBodies[routeName(r)] ??
    (isProviderCallback(r) ? { providerInstanceId: 'i-1', state: 'running' } : isWrite(r) ? {} : undefined);
  const call = (r: Route, token: string | undefined, values: Record<string, string>) => {
    const body = bodyOf(r);
    return send(w.procs[r.service].url, r.method, fill(r.path, values), {
      token,
      body: r.method === 'GET' || r.method === 'DELETE' ? undefined : body,
      headers: isWrite(r) ? { 'if-match': 'W/"1"' } : {},
      headOnly: isStream(r),
    });
  };
  const add = (r: Route, check: string, expected: string, a: Answer, ok: boolean, note?: string) => {
    // Whatever else is expected, a refusal is a problem document.
    const problemOk = a.status < 400 || isProblem(a);
    rows.push({
      route: `${r.service} ${routeName(r)}`,
      check,
      expected,
      got: a.status,
      ok: ok && problemOk,
      note: problemOk ? note : `not a problem document: ${a.contentType} ${a.text.slice(0, 120)}`,
    });
  };

  // DELETEs last: a refusal that failed must not take the objects the other checks need.
  const ordered = [
    ...routes.filter((r) => r.method !== 'DELETE'),
    ...routes.filter((r) => r.method === 'DELETE'),
  ];
  for (const r of ordered) {
    const keys = paramKeys(r);
    const owned = keys.some((k) => projectOwned.has(k));

    // 1. No token.
    const anon = await call(r, undefined, ids);
    if (isOperational(r)) add(r, 'no token', '2xx', anon, anon.status >= 200 && anon.status < 300);
    else if (isCapabilityWebhook(r)) add(r, 'no token', '202', anon, anon.status === 202);
    else add(r, 'no token', '401', anon, anon.status === 401, anon.text.slice(0, 100));
    if (isOperational(r) || isCapabilityWebhook(r)) continue;

    if (isProviderCallback(r)) {
      const forged = await send(w.procs[r.service].url, 'POST', fill(r.path, ids), {
        body: bodyOf(r),
        headers: { 'x-nephele-signature': `sha256=${'0'.repeat(64)}` },
      });
      add(r, 'bad signature', '401', forged, forged.status === 401);
      continue;
    }
    if (!r.secured) {
      // Public routes with their own bearer (Alertmanager): an API token is not theirs.
      const other = await call(r, s.memberA.token, ids);
      add(r, 'API token', '401', other, other.status === 401);
      continue;
    }

    // 2. A viewer cannot write.
    if (isWrite(r)) {
      const v = await call(r, s.viewerA.token, ids);
      add(r, 'viewer write', '403', v, v.status === 403);
    }

    // 3. Another project's member.
    const rand = await call(r, s.memberB.token, randomIds);
    const adminOnly =
      rand.status === 403 && ADMIN_ONLY.test(String((rand.json as { detail?: string })?.detail));
    if (owned) {
      const b = await call(r, s.memberB.token, ids);
      if (adminOnly) {
        add(r, 'other project', '403|404', b, b.status === 403 || b.status === 404);
      } else {
        add(r, 'other project', '404', b, b.status === 404, `random id: ${rand.status}`);
        add(
          r,
          'like a random id',
          'same problem',
          b,
          shape(b) === shape(rand),
          `${shape(b)} vs ${shape(rand)}`,
        );
      }
      // The same path works for its own project (so the 404 above is the scoping, not a bad path).
      // A sub-resource that may not exist yet (a group's refresh) answers its own 404, which must
      // name the sub-resource, not the object the other project could not see.
      if (r.method === 'GET') {
        const mine = await call(r, s.memberA.token, ids);
        const absent = OPTIONAL_SUBRESOURCES.get(routeName(r));
        const ok =
          (mine.status >= 200 && mine.status < 300) ||
          (absent !== undefined &&
            mine.status === 404 &&
            absent.test(String((mine.json as { detail?: string })?.detail)) &&
            shape(mine) !== shape(b));
        add(r, 'own project read', absent ? '2xx|404 of it' : '2xx', mine, ok, mine.text.slice(0, 100));
      }
    } else if (r.method === 'GET') {
      // Lists and global objects: readable, and a list never shows another project's objects,
      // even when asked for them.
      const list = await send(
        w.procs[r.service].url,
        'GET',
        `${fill(r.path, ids)}${r.query.some((q) => q.name === 'project') ? `?project=${s.projectA}` : ''}`,
        { token: s.memberB.token, headOnly: isStream(r) },
      );
      const leaked = Object.entries(s.a).filter(([, id]) => list.text.includes(id));
      add(
        r,
        'other project list',
        'no A ids, not 5xx',
        list,
        list.status < 500 && leaked.length === 0,
        leaked.length ? `shows ${leaked.map(([k]) => k).join(', ')}` : undefined,
      );
    } else {
      // Creating in, or changing, something global or another project's: never a 2xx or a 5xx.
      const b = await call(r, s.memberB.token, ids);
      const good = b.status >= 400 && b.status < 500;
      add(r, 'other project write', '4xx', b, good, b.text.slice(0, 100));
    }
  }
  return rows;
}

/** The failed rows as a table (route → check: expected / got). */
export function table(rows: AccessRow[]): string {
  const w = Math.max(...rows.map((r) => r.route.length));
  return rows
    .map(
      (r) =>
        `${r.ok ? '  ' : '✗ '}${r.route.padEnd(w)}  ${r.check.padEnd(20)} want ${r.expected.padEnd(18)} got ${r.got}${
          r.ok || !r.note ? '' : `  ${r.note}`
        }`,
    )
    .join('\n');
}
