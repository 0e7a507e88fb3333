// Manual pages (roff, one per command) and bash completion, made from the CLI's own definitions
// so they never drift from --help. Pure: a commander tree in, file contents out.
import type { Command, Option } from 'commander';
import { EXIT_CODES } from '../cli/exit-codes.js';

export interface ManualFile {
  /** Path below the package root, e.g. usr/share/man/man1/rackstrap-validate.1 */
  name: string;
  content: string;
}

/** roff text: backslashes, hyphens and a leading dot or quote escaped. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

function argumentsOf(cmd: Command): Array<{ name: string; required: boolean; variadic: boolean; description: string }> {
  return cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic, description: a.description }));
}

function synopsis(path: string[], cmd: Command): string {
  const args = argumentsOf(cmd).map((a) => {
    const n = `\\fI${roff(a.name)}\\fR${a.variadic ? '...' : ''}`;
    return a.required ? n : `[${n}]`;
  });
  const opts = cmd.options.length > 0 ? ['[\\fIoptions\\fR]'] : [];
  const sub = cmd.commands.length > 0 ? ['\\fIcommand\\fR'] : [];
  return `.B ${roff(path.join(' '))}\n${[...opts, ...sub, ...args].join(' ')}`;
}

function optionText(o: Option): string {
  const def = o.defaultValue !== undefined && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0) && typeof o.defaultValue !== 'boolean' ? ` (default: ${String(o.defaultValue)})` : '';
  return `.TP\n.B ${roff(o.flags)}\n${roff(`${o.description}${def}`)}`;
}

function exitStatus(): string {
  return ['.SH EXIT STATUS', ...EXIT_CODES.map((e) => `.TP\n.B ${e.code}\n${roff(e.meaning)}`)].join('\n');
}

function header(title: string, version: string): string {
  return `.TH ${roff(title.toUpperCase())} 1 "" "rackstrap ${roff(version)}" "rackstrap manual"`;
}

/** The page of one command (with its subcommands, if any). */
function commandPage(cmd: Command, path: string[], version: string): ManualFile {
  const name = path.join('-');
  const lines = [header(name, version), '.SH NAME', `${roff(name)} \\- ${roff(cmd.description())}`, '.SH SYNOPSIS', synopsis(path, cmd)];
  const args = argumentsOf(cmd);
  if (args.length > 0) lines.push('.SH ARGUMENTS', ...args.map((a) => `.TP\n.I ${roff(a.name)}\n${roff(a.description)}`));
  if (cmd.options.length > 0) lines.push('.SH OPTIONS', ...cmd.options.map(optionText));
  for (const sub of cmd.commands) {
    lines.push(`.SH COMMAND: ${roff(sub.name().toUpperCase())}`, roff(sub.description()), '.PP', synopsis([...path, sub.name()], sub));
    for (const a of argumentsOf(sub)) lines.push(`.TP\n.I ${roff(a.name)}\n${roff(a.description)}`);
    lines.push(...sub.options.map(optionText));
  }
  lines.push(exitStatus(), '.SH SEE ALSO', '\\fBrackstrap\\fR(1)');
  return { name: `usr/share/man/man1/${name}.1`, content: `${lines.join('\n')}\n` };
}

/** rackstrap(1): the overview, then one page per command. */
export function renderManPages(program: Command, version: string): ManualFile[] {
  const visible = program.commands.filter((c) => c.name() !== 'help');
  const main = [
    header('rackstrap', version),
    '.SH NAME',
    `rackstrap \\- ${roff(program.description())}`,
    '.SH SYNOPSIS',
    '.B rackstrap\n\\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]',
    '.SH DESCRIPTION',
    roff(
      'rackstrap brings the network of a storage cluster up with no manual step on the filers: the site\'s DHCP server hands each filer its topology (bonds, VLANs, aliases, routes) and the addresses of its identifiers; the agent builds them with iproute2 and caches them for a boot when no DHCP server answers.',
    ),
    '.SH COMMANDS',
    ...visible.map((c) => `.TP\n.B ${roff(c.name())}\n${roff(c.description())} See \\fBrackstrap\\-${roff(c.name())}\\fR(1).`),
    '.SH OPTIONS',
    ...program.options.map(optionText),
    exitStatus(),
    '.SH FILES',
    '.TP\n.I /etc/rackstrap/agent.yaml\nthe agent\'s settings (an annotated example: /etc/rackstrap/agent.yaml.example)',
    '.TP\n.I /var/lib/rackstrap\nthe agent\'s cache and status file; the embedded server\'s lease log',
    '.SH SEE ALSO',
    [...visible.map((c) => `\\fBrackstrap\\-${roff(c.name())}\\fR(1)`), '\\fBsystemctl\\fR(1)'].join(', '),
    '.PP\nThe documentation: /usr/share/doc/rackstrap/.',
  ];
  return [{ name: 'usr/share/man/man1/rackstrap.1', content: `${main.join('\n')}\n` }, ...visible.map((c) => commandPage(c, ['rackstrap', c.name()], version))];
}

/** Every long and short flag of a command's options, plus --help. */
function flagsOf(cmd: Command): string[] {
  const out = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => typeof f === 'string'));
  return [...out, '--help'];
}

function shellWords(words: string[]): string {
  for (const w of words) if (!/^[A-Za-z0-9_.:=<>#-]+$/.test(w)) throw new Error(`completion: unexpected word ${JSON.stringify(w)}`);
  return words.join(' ');
}

/** bash completion: commands, subcommands and each one's flags; file names elsewhere. */
export function renderBashCompletion(program: Command): ManualFile {
  const visible = program.commands.filter((c) => c.name() !== 'help');
  const cases = visible.map((c) => {
    const subs = c.commands.map((s) => s.name());
    const subCases = c.commands.map((s) => `          ${s.name()}) opts="${shellWords(flagsOf(s))}" ;;`).join('\n');
    const body =
      subs.length === 0
        ? `      opts="${shellWords(flagsOf(c))}"`
        : `      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "${shellWords(subs)}" -- "$cur")); return; fi\n      case "\${COMP_WORDS[2]}" in\n${subCases}\n      esac`;
    return `    ${c.name()})\n${body}\n      ;;`;
  });
  const text = `# bash completion for rackstrap (made from the CLI's definitions by the package build)
_rackstrap() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${shellWords(visible.map((c) => c.name()))} help ${shellWords(flagsOf(program))}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _rackstrap rackstrap
`;
  return { name: 'usr/share/bash-completion/completions/rackstrap', content: text };
}
