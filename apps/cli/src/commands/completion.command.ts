import { Command, Option } from 'commander';
import { UsageError } from '../errors.util';

/** Every command path with its subcommands and options, read from the command tree. */
function walk(cmd: Command, prefix: string[], out: Map<string, { subs: string[]; opts: string[] }>): void {
  const key = prefix.join(' ');
  out.set(key, {
    subs: cmd.commands.map((c) => c.name()),
    opts: cmd.options.flatMap((o: Option) => [o.long, o.short].filter((x): x is string => !!x)),
  });
  for (const c of cmd.commands) walk(c, [...prefix, c.name()], out);
}

/**
 * A completion script for bash or zsh, generated from the command tree (so it never goes stale): it
 * completes commands, subcommands and flags; for `-o` the output formats; file names after `-f`.
 */
export function completionScript(program: Command, shell: string): string {
  const tree = new Map<string, { subs: string[]; opts: string[] }>();
  walk(program, [], tree);
  const globals = tree.get('')!.opts;
  const cases = [...tree.entries()]
    .map(([k, v]) => `    "${k}") words="${[...v.subs, ...v.opts, ...(k ? globals : [])].join(' ')}" ;;`)
    .join('\n');
  const body = `_nephele_complete() {
  local cur prev path w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "table wide json yaml" -- "$cur") ); return ;;
    -f|--file) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  path=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) continue ;; esac
    case " $(_nephele_words "\${path}") " in *" $w "*) path="\${path:+$path }$w" ;; esac
  done
  COMPREPLY=( $(compgen -W "$(_nephele_words "$path")" -- "$cur") )
}
_nephele_words() {
  local words=""
  case "$1" in
${cases}
  esac
  echo "$words"
}`;
  if (shell === 'bash') return `# nephele completion (bash): source <(nephele completion bash)\n${body}\ncomplete -F _nephele_complete nephele\n`;
  if (shell === 'zsh')
    return `# nephele completion (zsh): source <(nephele completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F _nephele_complete nephele\n`;
  throw new UsageError(`completion: shell must be bash or zsh (got "${shell}")`);
}

export function completionCommand(program: () => Command, out: (s: string) => void): Command {
  return new Command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('print a shell completion script: source <(nephele completion bash)')
    .action((shell: string) => {
      out(completionScript(program(), shell));
    });
}
