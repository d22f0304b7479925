import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AGENT_BUNDLE_TOKEN_HEADER } from '@nephele/drivers';
import { ProblemException, Public } from '@nephele/service-kit';
import { AgentBundleService } from './agent-bundle.service';

/** The agent bundle for guests booted from stock images (Note [Bundle tokens]). */
@ApiTags('agent-bundle')
@Controller('v1/agent-bundle')
export class AgentBundleController {
  constructor(private readonly bundles: AgentBundleService) {}

  // Public to the bearer-token guard: the one-time token in X-Nephele-Bundle-Token is the
  // authentication (a guest has no API token).
  @Public()
  @Get()
  @ApiOperation({ summary: 'Download the agent bundle once, with the token from the instance user data' })
  async download(
    @Headers(AGENT_BUNDLE_TOKEN_HEADER) token: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (!this.bundles.redeem(token)) {
      throw new ProblemException(401, `${AGENT_BUNDLE_TOKEN_HEADER}: missing, unknown, spent or expired`);
    }
    const f = await this.bundles.file();
    res
      .status(200)
      .set({
        'content-type': 'application/javascript',
        'content-length': String(f.bytes.length),
        'x-checksum-sha256': f.sha256,
        'cache-control': 'no-store',
      })
      .end(f.bytes);
  }
}
