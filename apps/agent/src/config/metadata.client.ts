// Reads the instance's user data from a cloud metadata service, for an agent started with no
// identity in its environment (an image with the agent baked in). Both services answer at the
// same link-local address; OpenStack is asked first because an OpenStack cloud often serves an
// EC2-compatible API too, and its own answers are the richer ones.

export type MetadataKind = 'openstack' | 'ec2';

export interface MetadataUserData {
  source: MetadataKind;
  userData: string;
  /** OpenStack: the server's uuid from meta_data.json; EC2: the instance id. */
  instanceId?: string;
}

export interface MetadataOptions {
  baseUrl: string;
  kinds: MetadataKind[];
  /** Per request. */
  timeoutMs?: number;
  /** Rounds over every kind before giving up (the service may come up after the agent). */
  attempts?: number;
  retryDelayMs?: number;
}

async function get(url: string, timeoutMs: number, headers: Record<string, string> = {}) {
  return fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
}

async function openstack(base: string, timeoutMs: number): Promise<MetadataUserData | null> {
  const meta = await get(`${base}/openstack/latest/meta_data.json`, timeoutMs);
  if (!meta.ok) return null;
  const m = (await meta.json()) as { uuid?: unknown };
  const ud = await get(`${base}/openstack/latest/user_data`, timeoutMs);
  // 404: the server has no user data, so nothing to find here.
  if (!ud.ok) return null;
  return {
    source: 'openstack',
    userData: await ud.text(),
    ...(typeof m.uuid === 'string' ? { instanceId: m.uuid } : {}),
  };
}

async function ec2(base: string, timeoutMs: number): Promise<MetadataUserData | null> {
  // IMDSv2: a session token first (PUT), then every GET carries it.
  const t = await fetch(`${base}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '300' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!t.ok) return null;
  const token = await t.text();
  const h = { 'x-aws-ec2-metadata-token': token };
  const ud = await get(`${base}/latest/user-data`, timeoutMs, h);
  if (!ud.ok) return null;
  const id = await get(`${base}/latest/meta-data/instance-id`, timeoutMs, h).catch(() => undefined);
  const instanceId = id?.ok ? (await id.text()).trim() : undefined;
  return { source: 'ec2', userData: await ud.text(), ...(instanceId ? { instanceId } : {}) };
}

/** The user data from the first kind that answers, or null after every attempt. */
export async function readMetadataUserData(o: MetadataOptions): Promise<MetadataUserData | null> {
  const base = o.baseUrl.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 2000;
  const attempts = o.attempts ?? 3;
  for (let i = 0; i < attempts; i++) {
    for (const kind of o.kinds) {
      try {
        const r = kind === 'openstack' ? await openstack(base, timeoutMs) : await ec2(base, timeoutMs);
        if (r) return r;
      } catch {
        // unreachable or timed out: try the other kind, then another round
      }
    }
    if (i + 1 < attempts) await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 1000));
  }
  return null;
}
