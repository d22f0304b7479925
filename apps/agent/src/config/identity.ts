import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadEnv } from '@nephele/service-kit';
import { AgentConfig, AgentEnv, loadAgentConfig } from './env';
import { MetadataKind, readMetadataUserData } from './metadata.client';

/** Where the identity came from, for the start-up log line. */
export type IdentitySource = 'environment' | 'user-data' | MetadataKind;

async function credential(dir: string | undefined, name: string): Promise<string | undefined> {
  if (!dir) return undefined;
  try {
    return (await readFile(path.join(dir, name), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * The agent's configuration from its environment, then systemd credentials (LoadCredential=),
 * then — when the environment carries no identity at all — the user data a metadata service
 * serves. Explicit variables always win. Throws like `loadAgentConfig`.
 */
export async function resolveAgentConfig(
  env: NodeJS.ProcessEnv,
): Promise<{ config: AgentConfig; source: IdentitySource }> {
  const e = loadEnv(AgentEnv, env);
  const overlay: NodeJS.ProcessEnv = { ...env };
  const dir = e.CREDENTIALS_DIRECTORY;
  overlay['NEPHELE_AGENT_SECRET'] ??= await credential(dir, 'agent-secret');
  overlay['AMQP10_URL'] ??= await credential(dir, 'edge-url');
  let source: IdentitySource = e.NEPHELE_USER_DATA ? 'user-data' : 'environment';
  const mode = e.NEPHELE_METADATA;
  if (!e.NEPHELE_ASSEMBLY_ID && !e.NEPHELE_USER_DATA && mode !== 'off') {
    const kinds: MetadataKind[] =
      mode === 'openstack' ? ['openstack'] : mode === 'ec2' ? ['ec2'] : ['openstack', 'ec2'];
    const found = await readMetadataUserData({
      baseUrl: e.NEPHELE_METADATA_URL,
      kinds,
    });
    if (found) {
      overlay['NEPHELE_USER_DATA'] = found.userData;
      source = found.source;
    }
  }
  return { config: loadAgentConfig(overlay), source };
}
