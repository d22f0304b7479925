import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** One bad field of a 400 (RFC 9457 `errors` member, as every service answers it). */
export class FieldErrorView {
  @ApiProperty({ example: 'config.minEntities' }) field!: string;
  @ApiProperty() message!: string;
}

/** `application/problem+json` (ARCHITECTURE §2, REST conventions). */
export class ProblemView {
  @ApiProperty({ example: 'about:blank' }) type!: string;
  @ApiProperty() title!: string;
  @ApiProperty() status!: number;
  @ApiPropertyOptional() detail?: string;
  @ApiPropertyOptional() instance?: string;
  @ApiPropertyOptional({ type: [FieldErrorView], description: 'On 400: each bad field, named' })
  errors?: FieldErrorView[];
}

const WHY: Record<number, string> = {
  400: 'A bad field (each one named in `errors`) or a bad query parameter',
  401: 'Missing or invalid bearer token',
  403: 'Not allowed for this token (or refused, see detail)',
  404: 'No such object in your project',
  409: 'Conflicts with the object’s state (see detail)',
  412: 'If-Match does not match the current ETag',
  429: 'Too many requests (Retry-After says when to come back)',
  503: 'Switched off on this scaler (see detail)',
};

/** Documents the problem answers of an operation (401 is implied by bearer auth, so listed too). */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: WHY[status] ?? 'Problem', type: ProblemView }),
    ),
  );
}
