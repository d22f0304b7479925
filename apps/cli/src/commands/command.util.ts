import { Command, Option } from 'commander';
import { CliContext } from '../cli-context';
import { UsageError } from '../errors.util';
import { parseObjectDocument, readDocumentFile } from '../input/document.util';
import {
  getPath,
  parseAmount,
  parseCount,
  parseInteger,
  parseJsonObject,
  parseNumber,
  setPath,
} from '../input/flags.util';
import { FlagDef } from './resource-defs';

/** Makes the context of the command that runs (settings are resolved from its global flags). */
export type ContextFactory = (cmd: Command) => CliContext;

export type Opts = Record<string, unknown>;

/** What an action returns: nothing (exit 0) or an exit code. */
export type ActionResult = number | void;

/**
 * Adapts an async handler to commander: the handler gets the context, the positional arguments
 * and the command's own options; a returned number becomes the exit code.
 */
export function action(
  make: ContextFactory,
  setExit: (code: number) => void,
  fn: (ctx: CliContext, args: string[], opts: Opts) => Promise<ActionResult>,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const cmd = raw[raw.length - 1] as Command;
    const args = raw.slice(0, -2).map((a) => a as string);
    const code = await fn(make(cmd), args, cmd.opts());
    if (typeof code === 'number') setExit(code);
  };
}

/** The commander option of a create flag (`refs` flags may be repeated). */
export function optionOf(f: FlagDef): Option {
  const o = new Option(f.flags, f.required ? `${f.description} (required)` : f.description);
  if (f.kind === 'refs') o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  return o;
}

function longFlag(f: FlagDef): string {
  return /--[a-z0-9-]+/.exec(f.flags)?.[0] ?? f.flags;
}

/**
 * A create body: the `-f` file (JSON or YAML) if given, then every flag on top of it, names
 * resolved to ids; a required field missing from both is a usage error naming the flag.
 */
export async function buildBody(ctx: CliContext, flags: readonly FlagDef[], opts: Opts): Promise<Opts> {
  const body: Opts =
    typeof opts.file === 'string' ? parseObjectDocument(readDocumentFile(opts.file, ctx.io.stdin)) : {};
  for (const f of flags) {
    const raw = opts[new Option(f.flags).attributeName()];
    if (raw === undefined || (Array.isArray(raw) && !raw.length)) continue;
    const flag = longFlag(f);
    let value: unknown;
    switch (f.kind) {
      case 'text':
        value = raw;
        break;
      case 'int':
        value = parseInteger(flag, String(raw));
        break;
      case 'count':
        value = parseCount(flag, String(raw));
        break;
      case 'number':
        value = parseNumber(flag, String(raw));
        break;
      case 'amount':
        value = parseAmount(flag, String(raw));
        break;
      case 'json':
        value = parseJsonObject(flag, String(raw));
        break;
      case 'off':
        value = false;
        break;
      case 'ref':
        value = await ctx.resolveId(f.ref!, String(raw));
        break;
      case 'refs': {
        const ids: string[] = [];
        for (const r of raw as string[]) ids.push(await ctx.resolveId(f.ref!, r));
        value = ids;
        break;
      }
    }
    setPath(body, f.field, value);
  }
  const missing = flags.filter((f) => f.required && getPath(body, f.field) === undefined);
  if (missing.length) {
    throw new UsageError(
      `missing ${missing.map(longFlag).join(', ')}`,
      missing.map((f) => `${longFlag(f)}: required (or "${f.field}" in the -f file)`),
    );
  }
  return body;
}
