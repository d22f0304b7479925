import { Command, CommanderError, Option } from 'commander';
import { CliContext, CliIo } from './cli-context';
import { clusterCommand } from './commands/cluster.command';
import { completionCommand } from './commands/completion.command';
import { describeCommand } from './commands/describe.command';
import { deployableCommand } from './commands/deployable.command';
import { eventsCommand } from './commands/events.command';
import { groupCommand, policyCommand } from './commands/group.command';
import { instancesCommand } from './commands/instances.command';
import { loginCommands } from './commands/login.command';
import { resourceCommands } from './commands/resources.command';
import { CliEnv, DEFAULT_URL, OUTPUT_FORMATS } from './config/cli-config';
import { describeError, EXIT_OK, EXIT_USAGE, redact } from './errors.util';

export const CLI_VERSION = '0.1.0';

const HELP_AFTER = `
Settings (flags win over the environment, which wins over the config file):
  URL      --url, NEPHELE_URL, config "url" (default ${DEFAULT_URL})
  token    --token, NEPHELE_TOKEN, config "token"
  project  --project, NEPHELE_PROJECT, config "project" (creates default to the only
           visible project, else the one named "default")
  config   $NEPHELE_CONFIG or ~/.config/nephele/config.json, written by \`nephele login\` (mode 600)

Exit codes: 0 success, 1 an API or runtime error (problem details shown as "field: message"),
2 a usage error.

Examples:
  nephele login --url http://localhost:8080 --token-stdin < .nephele/admin-token
  nephele pool list -o json
  nephele deployable apply -f shop.deployable.yaml && nephele deployable watch shop
  nephele events tail -f --type 'nephele.deployable.*'
  nephele describe deployable shop                 # status, conditions, last events explained
  nephele deployable list --jsonpath '{.items[*].name}'
  source <(nephele completion bash)
`;

/** The `nephele` command tree; `make` builds each action's context, `setExit` records its exit code. */
export function buildProgram(
  io: CliIo,
  make: (cmd: Command) => CliContext,
  setExit: (n: number) => void,
): Command {
  const program = new Command('nephele')
    .description('Nephele multi-cloud control plane: command-line client')
    .version(CLI_VERSION, '-V, --version')
    .option('--url <url>', `API base URL (env NEPHELE_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (env NEPHELE_TOKEN; or `nephele login`)')
    .option('-p, --project <name|id>', 'project to work in (env NEPHELE_PROJECT)')
    .addOption(
      new Option('-o, --output <format>', 'output format: table (default), wide, json, yaml').choices(OUTPUT_FORMATS),
    )
    .option('--jsonpath <expr>', 'print only these values of the JSON output ({.items[*].name}, $.status)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', HELP_AFTER);

  const commands = [
    ...resourceCommands(make, setExit),
    deployableCommand(make, setExit),
    groupCommand(make, setExit),
    policyCommand(make, setExit),
    eventsCommand(make, setExit),
    instancesCommand(make, setExit),
    clusterCommand(make, setExit),
    describeCommand(make, setExit),
    ...loginCommands(make, setExit),
    completionCommand(() => program, (s) => io.out(s)),
  ];
  for (const c of commands) program.addCommand(c);
  // Subcommands built on their own do not inherit the program's settings: copy them down the tree.
  const inherit = (c: Command) => {
    c.exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
      .showHelpAfterError('(add --help for usage)');
    c.commands.forEach(inherit);
  };
  commands.forEach(inherit);
  return program;
}

/** Runs one command line (without `node main.js`) and returns the exit code. */
export async function run(
  argv: string[],
  env: CliEnv & { NEPHELE_TOKEN?: string },
  io: CliIo,
): Promise<number> {
  let exitCode = EXIT_OK;
  let ctx: CliContext | undefined;
  const program = buildProgram(
    io,
    (cmd) => (ctx = new CliContext(io, env, cmd)),
    (n) => (exitCode = n),
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander printed the message already; help and --version end with 0.
      if (e.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    let url = DEFAULT_URL;
    let token = env.NEPHELE_TOKEN;
    try {
      url = ctx?.settings.url ?? url;
      token = ctx?.settings.token ?? token;
    } catch {
      /* the settings themselves were the problem */
    }
    const { lines, exitCode: code } = describeError(e, url);
    io.err(`${redact(redact(lines.join('\n'), token), env.NEPHELE_TOKEN)}\n`);
    return code;
  }
}
