import { Controller, Get, Param, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { HardwareProfileConfig } from '@nephele/broker';
import { Public } from '@nephele/service-kit';
import { LaunchesRepository } from '../launches/launches.repository';
import { baseUrl, OpenStackAuthService } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';
import { fixed } from './servers.service';
import { computeContext, ComputeContext } from './compute.util';

/** Nova v2.1 flavors (the project's hardware profiles) and limits (the pool's quota and usage). */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/:pool/compute')
export class ComputeFlavorsController {
  constructor(
    private readonly auth: OpenStackAuthService,
    private readonly launches: LaunchesRepository,
  ) {}

  private ctx(req: Request, res: Response, ref: string): Promise<ComputeContext> {
    return computeContext(this.auth, req, res, ref);
  }

  // --- flavors --------------------------------------------------------------------------

  private flavor(req: Request, pool: string, h: HardwareProfileConfig, detail: boolean) {
    const href = `${baseUrl(req)}/${pool}/compute/v2.1/flavors/${h.id}`;
    const links = [
      { rel: 'self', href },
      { rel: 'bookmark', href },
    ];
    if (!detail) return { id: h.id, name: h.name, links };
    return {
      id: h.id,
      name: h.name,
      ram: fixed(h.memoryMb),
      vcpus: fixed(h.cpu),
      disk: fixed(h.storageGb),
      'OS-FLV-EXT-DATA:ephemeral': 0,
      'OS-FLV-DISABLED:disabled': false,
      'os-flavor-access:is_public': true,
      swap: '',
      rxtx_factor: 1.0,
      links,
    };
  }

  @Get(['v2.1/flavors', 'v2.1/flavors/detail'])
  async flavors(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.ctx(req, res, ref);
    const detail = req.path.endsWith('/detail');
    return {
      flavors: snapshot.hardwareProfiles
        .filter((h) => h.project === pool.project)
        .map((h) => this.flavor(req, ref, h, detail)),
    };
  }

  @Get('v2.1/flavors/:id')
  async flavorGet(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool, snapshot } = await this.ctx(req, res, ref);
    const h = snapshot.hardwareProfiles.find((x) => x.project === pool.project && x.id === id);
    if (!h) throw new OsError(404, `Flavor ${id} could not be found.`);
    return { flavor: this.flavor(req, ref, h, true) };
  }

  @Get('v2.1/flavors/:id/os-extra_specs')
  async extraSpecs(
    @Param('pool') ref: string,
    @Param('id') id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    await this.flavorGet(ref, id, req, res);
    return { extra_specs: {} };
  }

  // --- limits ---------------------------------------------------------------------------

  @Get('v2.1/limits')
  async limits(
    @Param('pool') ref: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { pool } = await this.ctx(req, res, ref);
    const used = await this.launches.usage(pool.id, pool.familyId);
    const q = pool.quota ?? {};
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalInstances: q.maxInstances ?? -1,
          maxTotalCores: q.maxCores ?? -1,
          maxTotalRAMSize: q.maxMemoryMb ?? -1,
          maxTotalKeypairs: 100,
          maxServerMeta: 128,
          maxPersonality: 0,
          maxPersonalitySize: 0,
          maxImageMeta: 128,
          maxServerGroups: 0,
          maxServerGroupMembers: 0,
          maxSecurityGroups: -1,
          maxSecurityGroupRules: -1,
          maxTotalFloatingIps: 0,
          totalInstancesUsed: used.pool.instances,
          totalCoresUsed: used.pool.cores,
          totalRAMUsed: used.pool.memoryMb,
          totalSecurityGroupsUsed: 0,
          totalFloatingIpsUsed: 0,
          totalServerGroupsUsed: 0,
        },
      },
    };
  }
}
