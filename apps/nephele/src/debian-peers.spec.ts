import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { missingPeersLines, optionalPeers } from './debian-peers';

describe('optional Debian peers', () => {
  it('names each missing package and what it enables, and says nothing when all are there', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'ocf-'));
    try {
      const lines = missingPeersLines(optionalPeers(root).slice(0, 1));
      expect(lines.join('\n')).toMatch(/apt-get install resource-agents/);
      expect(lines.join('\n')).toMatch(/OCF services/);
      mkdirSync(path.join(root, 'resource.d', 'heartbeat'), { recursive: true });
      expect(missingPeersLines(optionalPeers(root).slice(0, 1))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
