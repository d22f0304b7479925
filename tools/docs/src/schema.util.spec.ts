import { Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { fieldRows, fieldTable, JsonSchema, schemaOf } from './schema.util';

class Inner {
  @IsInt() @Min(1) @Max(10) count!: number;
}
class Outer {
  @IsString() @MaxLength(5) name!: string;
  @IsOptional() @IsIn(['a', 'b']) mode?: string;
  @IsOptional() @Matches(/^x+$/) xs?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => Inner) items!: Inner[];
  @IsOptional() @ValidateNested() @Type(() => Inner) one?: Inner;
}

describe('schemaOf / fieldRows', () => {
  it('turns the validation decorators into a JSON Schema', () => {
    const defs: Record<string, JsonSchema> = {};
    const s = schemaOf(Outer, defs, (c, p) => (p === 'name' ? 'the name' : undefined));
    expect(s).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 5, description: 'the name' },
        mode: { enum: ['a', 'b'] },
        xs: { pattern: '^x+$', type: 'string' },
        items: { type: 'array', items: { $ref: '#/$defs/Inner' } },
        one: { $ref: '#/$defs/Inner' },
      },
      required: ['name', 'items'],
      additionalProperties: false,
    });
    expect(defs.Inner).toEqual({
      type: 'object',
      properties: { count: { type: 'integer', minimum: 1, maximum: 10 } },
      required: ['count'],
      additionalProperties: false,
    });
  });

  it('flattens nested classes into dotted rows', () => {
    const rows = fieldRows(Outer);
    expect(rows.map((r) => [r.path, r.type, r.required, r.rules])).toEqual([
      ['name', 'string', 'yes', 'length ≤ 5'],
      ['mode', '`a` | `b`', 'no', ''],
      ['xs', 'string', 'no', 'matches `^x+$`'],
      ['items', 'object[]', 'yes', ''],
      ['items[].count', 'integer', 'yes', '1–10'],
      ['one', 'object', 'no', ''],
      ['one.count', 'integer', 'yes', '1–10'],
    ]);
    expect(fieldTable(rows)[3]).toBe('| `mode` | `a` \\| `b` | no |  |  |');
  });
});
