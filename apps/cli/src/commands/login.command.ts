import { Command } from 'commander';
import { NepheleClient } from '@nephele/client';
import {
  configPathOf,
  DEFAULT_URL,
  GlobalFlags,
  normaliseUrl,
  readStoredConfig,
  StoredConfig,
  writeStoredConfig,
} from '../config/cli-config';
import { UsageError } from '../errors.util';
import { action, ContextFactory } from './command.util';

export function loginCommands(make: ContextFactory, setExit: (n: number) => void): Command[] {
  const login = new Command('login')
    .description(
      'save the URL and token (and optionally --project) in the config file, mode 600: ' +
        '$NEPHELE_CONFIG or ~/.config/nephele/config.json',
    )
    .option('--token-stdin', 'read the token from standard input (keeps it out of the process list)')
    .option('--no-verify', 'save without checking the token against the API')
    .action(
      action(make, setExit, async (ctx, _a, o) => {
        const flags = ctx.command.optsWithGlobals<GlobalFlags>();
        const file = configPathOf(ctx.env);
        const stored = readStoredConfig(file);
        const token = o.tokenStdin ? ctx.io.stdin().trim() : (flags.token ?? ctx.env.NEPHELE_TOKEN);
        if (!token)
          throw new UsageError('give the token with --token <token>, --token-stdin or NEPHELE_TOKEN');
        const url = normaliseUrl(flags.url ?? ctx.env.NEPHELE_URL ?? stored.url ?? DEFAULT_URL);
        if (o.verify !== false) await new NepheleClient({ url, token }).get('/v1/projects?limit=1');
        const next: StoredConfig = { url, token };
        const project = flags.project ?? stored.project;
        if (project) next.project = project;
        writeStoredConfig(file, next);
        ctx.printDone(`logged in to ${url}; saved in ${file} (mode 600)`, {
          url,
          project: project ?? null,
          config: file,
        });
      }),
    );

  const logout = new Command('logout').description('remove the token from the config file').action(
    action(make, setExit, async (ctx) => {
      const file = configPathOf(ctx.env);
      const { token: _token, ...rest } = readStoredConfig(file);
      writeStoredConfig(file, rest);
      ctx.printDone(`token removed from ${file}`, { config: file });
    }),
  );
  return [login, logout];
}
