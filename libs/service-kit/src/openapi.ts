import { applyDecorators, INestApplication, Module, Type } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { NestFactory } from '@nestjs/core';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  OpenAPIObject,
  SwaggerModule,
} from '@nestjs/swagger';

// Note [OpenAPI responses]
// Every operation in `/docs` names its success body (`@ApiOkResponse({ type })`, `ApiPage(Item)`
// for lists, 204 for bodiless deletes) and the problems it answers (`ApiProblems(400, 404, …)`,
// RFC 9457 bodies: ProblemDto). `openApiGaps(document)` lists the operations that do not, and each
// service's spec asserts it finds none, so a new route without its schemas fails a unit test; a
// request body must have a schema too (a DTO, see Note [Request DTOs]). `npm run docs:check`
// runs the same check over every service (tools/arch/openapi-gaps.ts).

/** One field-level error of a 400 (`errors[]`). */
export class FieldErrorDto {
  @ApiProperty({ example: 'name' }) field!: string;
  @ApiProperty({ example: 'must be a string' }) message!: string;
}

/** RFC 9457 problem details: the body of every 4xx and 5xx. */
export class ProblemDto {
  @ApiPropertyOptional({ example: 'about:blank' }) type?: string;
  @ApiProperty({ example: 'Bad Request' }) title!: string;
  @ApiProperty({ example: 400 }) status!: number;
  @ApiProperty({ example: 'validation failed' }) detail!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid input: `errors` names each field',
  401: 'no bearer token, or an unknown or revoked one',
  403: 'the token may not do this (a viewer writing, a member on admin-only resources)',
  404: 'no such object (another project’s answers the same)',
  409: 'conflicts with the current state (a duplicate name, something still references it)',
  412: 'If-Match names an older version (ETag mismatch)',
  413: 'the body is too large',
  415: 'unsupported content type',
  422: 'well-formed but not acceptable',
  429: 'too many requests',
};

/** The problem responses an operation (or every operation of a controller) documents. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, type: ProblemDto, description: PROBLEM_DESCRIPTIONS[status] ?? 'problem' }),
    ),
  );
}

/** A keyset page of `item`: `{ items: Item[], nextCursor }`. */
export function ApiPage(item: Type): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(item),
    ApiOkResponse({
      description: 'one page; pass nextCursor as `cursor` for the next (null at the end)',
      schema: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: { $ref: getSchemaPath(item) } },
          nextCursor: { type: 'string', nullable: true },
        },
      },
    }),
  );
}

/** The OpenAPI document of an app, as `/docs` serves it. */
export function buildOpenApiDocument(app: INestApplication, title: string): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(title).setVersion('1').addBearerAuth().build(),
  );
}

/** Whether an OpenAPI schema says more than "some object": a $ref, properties, items or variants. */
function hasShape(schema: Record<string, unknown> | undefined): boolean {
  if (!schema) return false;
  if (schema.$ref || schema.properties || schema.oneOf || schema.anyOf || schema.allOf) return true;
  if (schema.type === 'array') return hasShape(schema.items as Record<string, unknown> | undefined);
  // A text body (YAML, XML) or a map of strings is its own shape.
  return schema.type === 'string' || !!schema.additionalProperties;
}

/**
 * Operations without a described success body, without a documented 4xx, or with a request body
 * whose schema says nothing (Note [OpenAPI responses]).
 */
export function openApiGaps(doc: OpenAPIObject): string[] {
  const gaps: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item[method];
      if (!op) continue;
      const at = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries(op.responses ?? {}) as [
        string,
        { description?: string; content?: Record<string, { schema?: unknown }> },
      ][];
      const ok = responses.filter(([code]) => /^2\d\d$/.test(code));
      // 204, or a 202 that says why it has no body, need no schema (Nest's implicit default has no description).
      const described = ok.some(
        ([code, r]) =>
          code === '204' ||
          (code === '202' && !r.content && !!r.description) ||
          Object.values(r.content ?? {}).some((c) => c.schema !== undefined),
      );
      if (!described) gaps.push(`${at}: no 2xx response with a schema`);
      // A body is documented by its schema: a $ref to its DTO, or properties, items or variants.
      const body = op.requestBody as { content?: Record<string, { schema?: Record<string, unknown> }> } | undefined;
      if (body && !Object.values(body.content ?? {}).some((c) => hasShape(c.schema))) {
        gaps.push(`${at}: a request body without a schema`);
      }
      if (!responses.some(([code]) => /^4\d\d$/.test(code))) gaps.push(`${at}: no documented 4xx`);
    }
  }
  return gaps;
}

/**
 * The OpenAPI document `/docs` would serve for these controllers, built without the service's
 * database or bus: every constructor dependency is an empty stand-in (nothing runs, Swagger only
 * reads the decorators). Pair with `openApiGaps` in a spec (Note [OpenAPI responses]).
 */
export async function openApiOf(title: string, controllers: readonly Type[]): Promise<OpenAPIObject> {
  const tokens = new Set<unknown>();
  const dependenciesOf = (c: Type) => {
    const types = (Reflect.getMetadata('design:paramtypes', c) as unknown[] | undefined) ?? [];
    const injected =
      (Reflect.getMetadata('self:paramtypes', c) as { index: number; param: unknown }[] | undefined) ?? [];
    types.forEach((t, i) => tokens.add(injected.find((s) => s.index === i)?.param ?? t));
  };
  for (const c of controllers) {
    dependenciesOf(c);
    // The guards of the controller and of its routes are instantiated too.
    const methods = Object.getOwnPropertyNames(c.prototype).map((m) => (c.prototype as Record<string, unknown>)[m]);
    for (const target of [c, ...methods]) {
      const guards = (Reflect.getMetadata(GUARDS_METADATA, target as object) as unknown[] | undefined) ?? [];
      for (const g of guards) if (typeof g === 'function') dependenciesOf(g as Type);
    }
  }
  @Module({
    controllers: [...controllers],
    providers: [...tokens].map((provide) => ({ provide: provide as string, useValue: {} })),
  })
  class OpenApiProbeModule {}
  const app = await NestFactory.create(OpenApiProbeModule, {
    logger: false,
    abortOnError: false,
    preview: true,
  });
  try {
    return buildOpenApiDocument(app, title);
  } finally {
    await app.close();
  }
}
