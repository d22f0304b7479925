import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

// Customer webhook targets and feed URLs are user input: without a guard, a group's webhook could make the
// scaler call the metadata service (169.254.169.254), the database or anything on the private
// network. The host is resolved once, every address is checked, and the request is then sent to
// the checked address (so a second, different DNS answer cannot slip in: DNS rebinding).

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is loopback, link-local, private or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) return blocked.check(address, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * An admin's allow-list of otherwise refused networks (`127.0.0.0/8,::1/128,10.1.2.3`): CIDRs or
 * single addresses, comma-separated. Throws on a malformed entry (checked when the env is loaded).
 */
export function parseAddressAllowList(spec: string | undefined): BlockList | undefined {
  const items = (spec ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!items.length) return undefined;
  const list = new BlockList();
  for (const item of items) {
    const [net, bits] = item.split('/');
    const family = isIP(net ?? '');
    if (!family) throw new Error(`${item} is not an address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net!, type);
    else {
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 6 ? 128 : 32))
        throw new Error(`${item} has an invalid prefix length`);
      list.addSubnet(net!, prefix, type);
    }
  }
  return list;
}

function allowed(address: string, allow: boolean | BlockList | undefined): boolean {
  if (allow === true) return true;
  if (!allow) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped ? mapped[1]! : address;
  const v = isIP(a);
  return v !== 0 && allow.check(a, v === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Resolves a URL's host and refuses private targets (every resolved address is checked), unless
 * `allow` is true or the address is in an admin's allow-list (`parseAddressAllowList`). Connect to
 * the returned `address`, not the host name, so a second DNS answer cannot slip in.
 */
export async function resolveTarget(
  raw: string,
  allow: boolean | BlockList | undefined,
): Promise<ResolvedTarget> {
  const url = new URL(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  const addresses = literal
    ? [{ address: host, family: literal }]
    : await lookup(host, { all: true, verbatim: true });
  if (!addresses.length) throw new Error(`${host} does not resolve`);
  {
    const bad = addresses.find((a) => isPrivateAddress(a.address) && !allowed(a.address, allow));
    if (bad) throw new Error(`refused: ${host} resolves to a non-public address (${bad.address})`);
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
