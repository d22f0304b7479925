import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiProperty } from '@nestjs/swagger';
import { ApiPage, ApiProblems, openApiGaps, openApiOf } from './openapi';

class ThingDto {
  @ApiProperty() name!: string;
}

@Controller('things')
class ThingsController {
  @Get()
  @ApiPage(ThingDto)
  @ApiProblems(400, 401)
  list(): void {}

  @Get(':id')
  @ApiOkResponse({ type: ThingDto })
  one(): void {}

  @Post(':id/poke')
  @HttpCode(202)
  poke(): void {}

  @Post(':id/nudge')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'nudged; no body' })
  @ApiProblems(404)
  nudge(): void {}

  @Delete(':id')
  @HttpCode(204)
  @ApiProblems(404)
  remove(): void {}
}

describe(openApiGaps.name, () => {
  it('names each operation without a success schema or without a documented problem', async () => {
    const doc = await openApiOf('things', [ThingsController]);
    expect(openApiGaps(doc)).toEqual([
      'GET /things/{id}: no documented 4xx',
      // 204 must be declared (ApiNoContentResponse): HttpCode alone documents nothing.
      'DELETE /things/{id}: no 2xx response with a schema',
      'POST /things/{id}/poke: no 2xx response with a schema',
      'POST /things/{id}/poke: no documented 4xx',
    ]);
    const page = (doc.paths['/things']!.get!.responses['200'] as any).content['application/json'].schema;
    expect(page.properties.items.items).toEqual({ $ref: '#/components/schemas/ThingDto' });
    expect(doc.components!.schemas!.ProblemDto).toBeDefined();
  });
});
