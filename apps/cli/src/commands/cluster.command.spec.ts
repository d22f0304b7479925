import { parseParams } from './cluster.command';
import { sameDocument } from './deployable.command';

describe('parseParams', () => {
  it('reads numbers and booleans as such, the rest as text', () => {
    expect(parseParams(['port=8123', 'tls=true', 'name=a=b', 'ratio=0.5'])).toEqual({
      port: 8123,
      tls: true,
      name: 'a=b',
      ratio: 0.5,
    });
  });
  it('refuses a parameter without a name', () => {
    expect(() => parseParams(['=1'])).toThrow(/--param must be NAME=VALUE/);
  });
});

describe('sameDocument', () => {
  const doc = (text: string, format: 'yaml' | 'json' | 'xml' = 'yaml') => ({ source: 'f', text, format });
  it('is the same text, or the same data written otherwise', () => {
    expect(sameDocument(doc('name: a\n'), { version: 1, source: 'name: a', format: 'yaml' })).toBe(true);
    expect(sameDocument(doc('# c\nname: a\nx: 1\n'), { version: 1, source: 'x: 1\nname: a', format: 'yaml' })).toBe(true);
    expect(sameDocument(doc('{"name":"a"}', 'json'), { version: 1, source: 'name: a', format: 'yaml' })).toBe(true);
    expect(sameDocument(doc('{"name":"a"}', 'json'), { version: 1, document: { name: 'a' } })).toBe(true);
  });
  it('is not the same when anything differs', () => {
    expect(sameDocument(doc('name: b\n'), { version: 1, source: 'name: a', format: 'yaml' })).toBe(false);
    expect(sameDocument(doc('<deployable name="a"/>', 'xml'), { version: 1, source: '<deployable name="b"/>', format: 'xml' })).toBe(false);
  });
});
