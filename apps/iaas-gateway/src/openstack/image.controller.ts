import { Controller, Get, Param, Query, Req, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import { ImageConfig } from '@nephele/broker';
import { Public } from '@nephele/service-kit';
import { baseUrl, OpenStackAuthService } from './openstack-auth.service';
import { OpenStackErrorFilter, OsError } from './openstack.errors';

/** Glance v2 (a subset) for one pool (region): the images of the pool's project, read-only. */
@ApiExcludeController()
@Public()
@UseFilters(OpenStackErrorFilter)
@Controller('openstack/:pool/image')
export class ImageController {
  constructor(private readonly auth: OpenStackAuthService) {}

  @Get()
  versions(@Param('pool') pool: string, @Req() req: Request): unknown {
    return {
      versions: [
        {
          id: 'v2.9',
          status: 'CURRENT',
          links: [{ rel: 'self', href: `${baseUrl(req)}/${pool}/image/v2/` }],
        },
      ],
    };
  }

  private image(i: ImageConfig) {
    return {
      id: i.id,
      name: i.name,
      status: 'active',
      visibility: 'private',
      protected: false,
      os_hidden: false,
      owner: i.project,
      tags: [],
      container_format: 'bare',
      disk_format: 'raw',
      min_disk: 0,
      min_ram: 0,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
      ...(i.os ? { os_type: i.os } : {}),
      ...(i.arch ? { architecture: i.arch } : {}),
      ...(i.description ? { description: i.description } : {}),
      self: `/v2/images/${i.id}`,
      file: `/v2/images/${i.id}/file`,
      schema: '/v2/schemas/image',
    };
  }

  private async images(req: Request, ref: string): Promise<ImageConfig[]> {
    const c = await this.auth.authenticate(req);
    const { pool, snapshot } = await this.auth.pool(c, ref);
    return snapshot.images.filter((i) => i.project === pool.project);
  }

  @Get('v2/images')
  async list(
    @Param('pool') ref: string,
    @Query() q: Record<string, unknown>,
    @Req() req: Request,
  ): Promise<unknown> {
    let items = await this.images(req, ref);
    if (typeof q.name === 'string') items = items.filter((i) => i.name === q.name);
    if (typeof q.id === 'string') items = items.filter((i) => i.id === q.id);
    if (typeof q.status === 'string' && q.status !== 'active') items = [];
    if (typeof q.visibility === 'string' && !['private', 'all'].includes(q.visibility)) items = [];
    if (typeof q.marker === 'string') {
      const i = items.findIndex((x) => x.id === q.marker);
      if (i < 0) throw new OsError(400, `marker ${q.marker} not found`);
      items = items.slice(i + 1);
    }
    if (q.limit !== undefined) {
      const n = Number(q.limit);
      if (!Number.isInteger(n) || n < 0) throw new OsError(400, 'limit must be a non-negative integer');
      items = items.slice(0, n);
    }
    return { images: items.map((i) => this.image(i)), first: '/v2/images', schema: '/v2/schemas/images' };
  }

  @Get('v2/images/:id')
  async get(@Param('pool') ref: string, @Param('id') id: string, @Req() req: Request): Promise<unknown> {
    const i = (await this.images(req, ref)).find((x) => x.id === id);
    if (!i) throw new OsError(404, `No image found with ID ${id}`);
    return this.image(i);
  }
}
