import { Controller, Get, Inject, Optional, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ProblemException, Public } from '@nephele/service-kit';
import { CONSOLE_ASSETS, ConsoleAsset } from '../console.assets';
import { CONSOLE_OPTIONS, ConsoleOptions } from './console.options';

/**
 * The console's page and files. Public: the page itself asks for a token and sends it with every
 * API call. The CSP allows scripts and styles from this origin only, and API calls to this origin
 * plus the configured API.
 */
@Public()
@ApiExcludeController()
@Controller()
export class ConsoleController {
  private readonly apiUrl: string;
  private readonly csp: string;

  constructor(@Optional() @Inject(CONSOLE_OPTIONS) options?: ConsoleOptions) {
    this.apiUrl = options?.apiUrl ?? '';
    const connect = ["'self'", ...(this.apiUrl ? [new URL(this.apiUrl).origin] : [])].join(' ');
    this.csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src ${connect}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  @Get()
  index(@Res() res: Response): void {
    this.send(res, CONSOLE_ASSETS['index.html']!);
  }

  /** Where the page finds the API (NEPHELE_API_URL of the standalone console; '' = this origin). */
  @Get('console/config.json')
  config(@Res() res: Response): void {
    this.send(res, { type: 'application/json', body: JSON.stringify({ apiUrl: this.apiUrl }) });
  }

  @Get('console/:file')
  file(@Param('file') file: string, @Res() res: Response): void {
    // index.html is the page at `/` only: its relative links resolve from there.
    const asset =
      file !== 'index.html' && Object.hasOwn(CONSOLE_ASSETS, file) ? CONSOLE_ASSETS[file] : undefined;
    if (!asset) throw ProblemException.notFound(`console file ${file}`);
    this.send(res, asset);
  }

  private send(res: Response, asset: ConsoleAsset): void {
    // Revalidated on every load (Express answers 304 from its ETag), so an upgrade shows at once.
    res
      .status(200)
      .type(asset.type)
      .set({
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': this.csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      })
      .send(asset.body);
  }
}
