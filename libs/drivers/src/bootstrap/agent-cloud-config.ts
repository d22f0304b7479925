import { stringify } from 'yaml';

// Note [Agent bootstrap]
// A driver that boots a stock image (openstack, ec2, qemu) cannot start the agent the way the
// `local` driver does (a process with NEPHELE_USER_DATA in its environment). Instead the gateway
// turns the DPE's identity blob (JSON: assemblyId, deployableId, agentSecret, amqp10Url,
// heartbeatInterval) into a `#cloud-config` that cloud-init runs once at first boot:
//   1. writes the credential to /etc/nephele/agent-secret (0600 root) and, when the edge URL
//      carries a user and password, that URL to /etc/nephele/edge-url (0600) — neither ever in the
//      unit's Environment= lines, which `systemctl show` prints to any user;
//   2. writes the unit nephele-agent.service: the identity as Environment=, the secrets through
//      LoadCredential= (the agent reads them from $CREDENTIALS_DIRECTORY);
//   3. runs a bootstrap script: Node.js from the distribution's packages when `node` is absent,
//      the agent bundle downloaded with a one-time token (retried while the network comes up),
//      its sha256 checked before it replaces anything, then the unit enabled and started.
// The same identity is also in a comment line (`# nephele-agent-identity: <base64 JSON>`), so an
// agent baked into an image and started without an environment finds it in the user data that
// the metadata service serves (see apps/agent config/metadata). cloud-init ignores comments.

/** What an assembly's agent needs to know (the DPE's user data blob). */
export interface AgentIdentity {
  /** `<deployable>.<assembly>.<n>` */
  assemblyId: string;
  deployableId: string;
  /** The per-assembly credential (SASL PLAIN password and command signing key). */
  agentSecret?: string;
  /** The AMQP 1.0 edge the agent connects to. */
  amqp10Url: string;
  /** e.g. `5000ms` */
  heartbeatInterval?: string;
}

/** Where the agent bundle is served and how to fetch it once. */
export interface AgentBundleRef {
  url: string;
  /** Lower-case hex sha256 of the bundle. */
  sha256: string;
  /** One-time download token, sent as header `X-Nephele-Bundle-Token`. */
  token: string;
}

export interface AgentCloudConfigInput {
  identity: AgentIdentity;
  bundle: AgentBundleRef;
}

export const AGENT_BUNDLE_TOKEN_HEADER = 'x-nephele-bundle-token';
export const AGENT_IDENTITY_COMMENT = '# nephele-agent-identity: ';
export const AGENT_UNIT = 'nephele-agent.service';
const AGENT_PATH = '/opt/nephele/agent.js';
const SECRET_PATH = '/etc/nephele/agent-secret';
const EDGE_URL_PATH = '/etc/nephele/edge-url';
const BOOTSTRAP_PATH = '/usr/local/sbin/nephele-agent-bootstrap';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;
const DURATION = /^\d+(ms|s|m|h)?$/;

/** Reads the DPE's identity blob (JSON, or base64 of JSON); null when the user data is anything else. */
export function parseAgentUserData(userData: string | undefined): AgentIdentity | null {
  if (!userData) return null;
  let text = userData.trim();
  if (!text.startsWith('{') && /^[A-Za-z0-9+/=\s]+$/.test(text))
    text = Buffer.from(text, 'base64').toString('utf8').trim();
  if (!text.startsWith('{')) return null;
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  const assemblyId = str('assemblyId');
  const deployableId = str('deployableId');
  const amqp10Url = str('amqp10Url');
  if (!assemblyId || !deployableId || !amqp10Url) return null;
  return {
    assemblyId,
    deployableId,
    amqp10Url,
    ...(str('agentSecret') !== undefined ? { agentSecret: str('agentSecret') } : {}),
    ...(str('heartbeatInterval') !== undefined ? { heartbeatInterval: str('heartbeatInterval') } : {}),
  };
}

/** Checks the input; throws one error naming every bad field. */
function check(input: AgentCloudConfigInput): void {
  const { identity: i, bundle: b } = input;
  const bad: string[] = [];
  if (!ID.test(i.assemblyId)) bad.push('identity.assemblyId');
  if (!ID.test(i.deployableId)) bad.push('identity.deployableId');
  if (!/^amqps?:\/\/[^\s/]+(\/[^\s]*)?$/.test(i.amqp10Url)) bad.push('identity.amqp10Url');
  if (i.agentSecret !== undefined && (!i.agentSecret || /[\r\n]/.test(i.agentSecret)))
    bad.push('identity.agentSecret');
  if (i.heartbeatInterval !== undefined && !DURATION.test(i.heartbeatInterval))
    bad.push('identity.heartbeatInterval');
  if (!/^https?:\/\/[^\s'"\\]+$/.test(b.url)) bad.push('bundle.url');
  if (!HEX64.test(b.sha256)) bad.push('bundle.sha256');
  if (!TOKEN.test(b.token)) bad.push('bundle.token');
  if (bad.length) throw new TypeError(`invalid agent cloud-config input: ${bad.join(', ')}`);
}

/** A systemd Environment= assignment, quoted; `%` doubled so specifiers stay literal. */
function envLine(name: string, value: string): string {
  const v = value.replace(/%/g, '%%').replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `Environment="${name}=${v}"`;
}

function hasUserInfo(url: string): boolean {
  return /^amqps?:\/\/[^/@]*@/.test(url);
}

/** The systemd unit that runs the agent (identity in Environment=, secrets by LoadCredential=). */
export function agentSystemdUnit(identity: AgentIdentity): string {
  const secretUrl = hasUserInfo(identity.amqp10Url);
  return [
    '[Unit]',
    `Description=Nephele agent of assembly ${identity.assemblyId}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    envLine('NEPHELE_ASSEMBLY_ID', identity.assemblyId),
    envLine('NEPHELE_DEPLOYABLE_ID', identity.deployableId),
    ...(secretUrl ? [] : [envLine('AMQP10_URL', identity.amqp10Url)]),
    ...(identity.heartbeatInterval
      ? [envLine('NEPHELE_HEARTBEAT_INTERVAL', identity.heartbeatInterval)]
      : []),
    envLine('NEPHELE_AGENT_STATE_DIR', '/var/lib/nephele-agent'),
    envLine('NEPHELE_METADATA', 'off'),
    ...(identity.agentSecret !== undefined ? [`LoadCredential=agent-secret:${SECRET_PATH}`] : []),
    ...(secretUrl ? [`LoadCredential=edge-url:${EDGE_URL_PATH}`] : []),
    'StateDirectory=nephele-agent',
    `ExecStart=/usr/bin/env node ${AGENT_PATH}`,
    'Restart=always',
    'RestartSec=2',
    'KillMode=process',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Single-quotes a value for POSIX sh. */
function sq(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/** The first-boot script: Node.js if absent, the bundle (token, checksum), the unit started. */
export function agentBootstrapScript(bundle: AgentBundleRef): string {
  // Node 18's fetch downloads the bundle, so the image needs no curl or wget.
  const download =
    'const [u,t,o]=process.argv.slice(1);' +
    `fetch(u,{headers:{'${AGENT_BUNDLE_TOKEN_HEADER}':t}})` +
    ".then(async r=>{if(!r.ok)throw new Error('HTTP '+r.status);" +
    "require('fs').writeFileSync(o,Buffer.from(await r.arrayBuffer()),{mode:0o600})})" +
    '.catch(e=>{console.error(e.message);process.exit(1)})';
  return [
    '#!/bin/sh',
    '# Written by Nephele (see Note [Agent bootstrap]): runs once, from cloud-init.',
    'set -eu',
    'if ! command -v node >/dev/null 2>&1; then',
    '  if command -v apt-get >/dev/null 2>&1; then',
    '    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs',
    '  elif command -v dnf >/dev/null 2>&1; then dnf install -y nodejs',
    '  else echo "nephele: no node and no known package manager" >&2; exit 1; fi',
    'fi',
    'mkdir -p /opt/nephele',
    `url=${sq(bundle.url)}`,
    `token=${sq(bundle.token)}`,
    `sum=${sq(bundle.sha256)}`,
    `tmp=${AGENT_PATH}.download`,
    'n=0',
    `until node -e ${sq(download)} "$url" "$token" "$tmp" 2>/dev/null; do`,
    '  n=$((n + 1))',
    '  if [ "$n" -ge 30 ]; then echo "nephele: agent bundle download failed" >&2; exit 1; fi',
    '  sleep 2',
    'done',
    'echo "$sum  $tmp" | sha256sum -c --quiet -',
    `mv "$tmp" ${AGENT_PATH}`,
    `chmod 0644 ${AGENT_PATH}`,
    'systemctl daemon-reload',
    `systemctl enable ${AGENT_UNIT}`,
    // --no-block: cloud-final must not wait on a unit that may be ordered after it.
    `systemctl start --no-block ${AGENT_UNIT}`,
    '',
  ].join('\n');
}

/**
 * The `#cloud-config` user data that installs and starts the agent on a stock image (Note [Agent
 * bootstrap]). Pure: the same input gives the same document. Throws a TypeError naming the bad
 * fields.
 */
export function agentCloudConfig(input: AgentCloudConfigInput): string {
  check(input);
  const { identity, bundle } = input;
  const files: Record<string, unknown>[] = [];
  if (identity.agentSecret !== undefined)
    files.push({ path: SECRET_PATH, permissions: '0600', owner: 'root:root', content: identity.agentSecret });
  if (hasUserInfo(identity.amqp10Url))
    files.push({ path: EDGE_URL_PATH, permissions: '0600', owner: 'root:root', content: identity.amqp10Url });
  files.push(
    {
      path: `/etc/systemd/system/${AGENT_UNIT}`,
      permissions: '0644',
      owner: 'root:root',
      content: agentSystemdUnit(identity),
    },
    {
      path: BOOTSTRAP_PATH,
      permissions: '0700',
      owner: 'root:root',
      content: agentBootstrapScript(bundle),
    },
  );
  const doc = { write_files: files, runcmd: [[BOOTSTRAP_PATH]] };
  const marker = Buffer.from(JSON.stringify(identity), 'utf8').toString('base64');
  return `#cloud-config\n${AGENT_IDENTITY_COMMENT}${marker}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The identity in a cloud-config's `# nephele-agent-identity:` line, or null. */
export function identityFromCloudConfig(userData: string): AgentIdentity | null {
  if (!userData.startsWith('#cloud-config')) return null;
  const line = userData.split('\n').find((l) => l.startsWith(AGENT_IDENTITY_COMMENT));
  if (!line) return null;
  return parseAgentUserData(line.slice(AGENT_IDENTITY_COMMENT.length));
}
