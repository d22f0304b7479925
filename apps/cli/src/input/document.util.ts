import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { CliError } from '../errors.util';

export type DocumentFormat = 'json' | 'yaml' | 'xml';

export const CONTENT_TYPES: Record<DocumentFormat, string> = {
  json: 'application/json',
  yaml: 'application/yaml',
  xml: 'application/xml',
};

/** A file given with `-f`: its text and format (`-` reads standard input). */
export interface DocumentFile {
  source: string;
  text: string;
  format: DocumentFormat;
}

/** The format by extension (`.json`, `.yaml`/`.yml`, `.xml`), else by the first character. */
export function formatOf(file: string, text: string): DocumentFormat {
  const ext = /\.([a-z]+)$/i.exec(file)?.[1]?.toLowerCase();
  if (ext === 'json') return 'json';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'xml') return 'xml';
  const t = text.trimStart();
  if (t.startsWith('<')) return 'xml';
  if (t.startsWith('{') || t.startsWith('[')) return 'json';
  return 'yaml';
}

export function readDocumentFile(file: string, stdin: () => string): DocumentFile {
  let text: string;
  const source = file === '-' ? 'standard input' : file;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `cannot read ${source}: no such file`
        : `cannot read ${source}: ${(e as Error).message}`,
    );
  }
  if (!text.trim()) throw new CliError(`${source} is empty`);
  return { source, text, format: formatOf(file, text) };
}

/** A JSON or YAML document that must be one object (resource bodies for `create -f`). */
export function parseObjectDocument(doc: DocumentFile): Record<string, unknown> {
  if (doc.format === 'xml')
    throw new CliError(`${doc.source}: XML is accepted for deployables only; use JSON or YAML`);
  let v: unknown;
  try {
    v = doc.format === 'json' ? JSON.parse(doc.text) : parseYaml(doc.text, { maxAliasCount: 100 });
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    throw new CliError(`${doc.source} is not valid ${doc.format.toUpperCase()}: ${first}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new CliError(`${doc.source} must hold one object (got ${Array.isArray(v) ? 'a list' : typeof v})`);
  return v as Record<string, unknown>;
}

/**
 * The `name` of a deployable document, without validating the rest (the API does that and names
 * every bad field); undefined when the text does not parse or has no name.
 */
export function deployableNameOf(doc: DocumentFile): string | undefined {
  try {
    if (doc.format === 'xml') {
      const x = new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: '@_',
        processEntities: false,
      }).parse(doc.text) as { deployable?: { '@_name'?: unknown } };
      const n = x.deployable?.['@_name'];
      return typeof n === 'string' && n ? n : undefined;
    }
    const v: unknown =
      doc.format === 'json' ? JSON.parse(doc.text) : parseYaml(doc.text, { maxAliasCount: 100 });
    const n = v && typeof v === 'object' ? (v as { name?: unknown }).name : undefined;
    return typeof n === 'string' && n ? n : undefined;
  } catch {
    return undefined;
  }
}
