import { Inject, Injectable } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppLogger } from '@nephele/observability';
import { LOGGER } from '@nephele/service-kit';
import { ScalerConfig } from '../config/env';
import { GroupRow } from '../state/group.types';
import { resolveTarget } from '@nephele/service-kit';
import { SCALER_CONFIG } from '../scaler.tokens';
import { ServerRow } from '../state/servers.repository';

/**
 * Asks a group's termination webhook which servers a scale-in should remove (`terminationPolicy:
 * custom`, Note [Victim choice] in libs/scaling). It POSTs `{groupId, remove, candidates}` and
 * takes `{serverIds: [...]}`; no answer within the webhook's timeout, a non-2xx, or a malformed
 * answer gives `[]`, so the default order applies. The address is checked like a customer
 * webhook's and pinned for the request.
 */
@Injectable()
export class VictimPicker {
  constructor(
    @Inject(SCALER_CONFIG) private readonly config: ScalerConfig,
    @Inject(LOGGER) private readonly log: AppLogger,
  ) {}

  async pick(group: GroupRow, remove: number, candidates: ServerRow[]): Promise<string[]> {
    const hook = group.termination_webhook;
    if (!hook || remove <= 0 || !candidates.length) return [];
    const body = JSON.stringify({
      groupId: group.id,
      remove,
      candidates: candidates.map((s) => ({
        id: s.id,
        instanceId: s.instance_id,
        state: s.state,
        addresses: s.addresses,
        launchConfigVersion: s.launch_version,
        createdAt: new Date(s.created_at).toISOString(),
      })),
    });
    try {
      const answer = (await this.post(hook.url, body, hook.timeout * 1000)) as { serverIds?: unknown };
      if (!Array.isArray(answer?.serverIds) || answer.serverIds.some((x) => typeof x !== 'string')) {
        throw new Error('the answer is not {serverIds: [string]}');
      }
      return answer.serverIds as string[];
    } catch (e) {
      this.log.warn(
        { groupId: group.id, err: (e as Error).message },
        'termination webhook gave no usable answer; removing the oldest servers',
      );
      return [];
    }
  }

  private async post(raw: string, body: string, timeoutMs: number): Promise<unknown> {
    const target = await resolveTarget(raw, this.config.webhooks.allowPrivate);
    const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const req = request(
        target.url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'nephele-scaler',
          },
          lookup: (_host, opts, cb) => {
            if ((opts as { all?: boolean }).all) {
              (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
                { address: target.address, family: target.family },
              ]);
            } else cb(null, target.address, target.family);
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            if (text.length > 1 << 20) req.destroy(new Error('answer larger than 1 MiB'));
          });
          res.on('end', () => {
            clearTimeout(timer);
            const code = res.statusCode ?? 0;
            if (code < 200 || code >= 300) return reject(new Error(`answered ${code}`));
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new Error('answer is not JSON'));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(body);
    });
  }
}
