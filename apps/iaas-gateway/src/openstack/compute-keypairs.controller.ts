import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { Public } from '@nephele/service-kit';
import { OpenStackAuthService } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { OpenStackRepository } from './openstack.repository';
import { ComputeContext } from './compute.util';
import { KeypairCreateBodyDto } from './dto/openstack.dto';
import { NovaAuthGuard, novaContextOf } from './openstack.guards';

/** Nova v2.1 keypairs of a project: imported OpenSSH public keys (generating keys is not served). */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/:pool/compute')
export class ComputeKeypairsController {
  constructor(
    private readonly auth: OpenStackAuthService,
    private readonly repo: OpenStackRepository,
  ) {}

  private ctx(req: Request, res: Response, ref: string): Promise<ComputeContext> {
    return novaContextOf(this.auth, req, res, ref);
  }

  // --- keypairs -------------------------------------------------------------------------

  private keypair(k: { name: string; public_key: string; fingerprint: string; type: string }) {
    return { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, type: k.type };
  }

  @Get('v2.1/os-keypairs')
  async keypairs(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    return { keypairs: (await this.repo.keypairs(pool.project)).map((k) => ({ keypair: this.keypair(k) })) };
  }

  @Get('v2.1/os-keypairs/:name')
  async keypairGet(
    @Param('pool') ref: string,
    @Param('name') name: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const k = await this.repo.keypair(pool.project, name);
    if (!k) throw new OsError(404, `Keypair ${name} not found for this project.`);
    return {
      keypair: {
        ...this.keypair(k),
        created_at: new Date(k.created_at).toISOString(),
        deleted: false,
        id: 0,
        user_id: pool.project,
      },
    };
  }

  @Post('v2.1/os-keypairs')
  @UseGuards(NovaAuthGuard)
  async keypairCreate(
    @Param('pool') ref: string,
    @Body() body: KeypairCreateBodyDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const k = body.keypair;
    const parts = k.public_key.trim().split(/\s+/);
    let blob: Buffer | undefined;
    if (parts.length >= 2 && /^(ssh-|ecdsa-)/.test(parts[0]!) && parts[0]!.length < 64)
      blob = Buffer.from(parts[1]!, 'base64');
    if (!blob || blob.length < 16 || k.public_key.length > 16_384 || /[\r\n]/.test(k.public_key.trim()))
      throw new OsError(400, 'Keypair data is invalid: not an OpenSSH public key');
    const fingerprint = createHash('md5')
      .update(blob)
      .digest('hex')
      .replace(/(..)(?!$)/g, '$1:');
    const row = {
      project: pool.project,
      name: k.name,
      public_key: k.public_key.trim(),
      fingerprint,
      type: 'ssh',
    };
    if (!(await this.repo.addKeypair(row)))
      throw new OsError(409, `Key pair '${k.name}' already exists.`, 'conflictingRequest');
    res.status(200);
    return { keypair: { ...this.keypair(row), user_id: pool.project } };
  }

  @Delete('v2.1/os-keypairs/:name')
  @HttpCode(202)
  async keypairDelete(
    @Param('pool') ref: string,
    @Param('name') name: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const { pool } = await this.ctx(req, res, ref);
    if (!(await this.repo.deleteKeypair(pool.project, name)))
      throw new OsError(404, `Keypair ${name} not found for this project.`);
  }
}
