import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AGENT_BUNDLE_TOKEN_HEADER } from '@nephele/drivers';
import { ApiProblems, ProblemException, Public } from '@nephele/service-kit';
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
  @ApiHeader({ name: AGENT_BUNDLE_TOKEN_HEADER, required: true, description: 'The one-time download token' })
  @ApiOkResponse({
    description: 'The single-file agent (Node.js 18+); its SHA-256 in X-Checksum-Sha256',
    content: { 'application/javascript': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiProblems(401)
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
