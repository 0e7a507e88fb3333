// The one place that decides exit codes (house style: nothing else calls process.exit).
// The codes and what each means: exit-codes.ts (also printed in the manual pages).
import { Command, CommanderError } from 'commander';
import { RackstrapError, UsageError } from '../errors.js';
import { registerCommands } from './commands/index.js';
import { version } from './version.js';

import { EXIT_BUG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

export { EXIT_BUG, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './exit-codes.js';

/** Output sinks, injectable so tests can run commands in-process. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

export function buildProgram(io: Io): Command {
  const program = new Command('rackstrap')
    .description('Zero-touch network bootstrap for clustered storage servers')
    .version(version(), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerCommands(program, io);
  return program;
}

/** Runs the CLI and returns the exit code. Commands throw; only this function maps errors to codes. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  // The command that runs, so a usage error points to its own --help (`rackstrap gen --help`).
  // Found from argv first: an option's own parser may refuse its value before any hook runs.
  let running = ['rackstrap', ...commandPath(program, argv)].join(' ');
  program.hook('preAction', (_root, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c !== null && c !== program; c = c.parent) names.unshift(c.name());
    running = ['rackstrap', ...names].join(' ');
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    return exitCodeFor(e, io, running);
  }
}

/** The names of the (sub)commands argv starts with: `gen kea ...` -> [gen, kea]. */
function commandPath(program: Command, argv: readonly string[]): string[] {
  const names: string[] = [];
  let c = program;
  for (const arg of argv) {
    const sub = c.commands.find((x) => x.name() === arg || x.aliases().includes(arg));
    if (sub === undefined) break;
    names.push(sub.name());
    c = sub;
  }
  return names;
}

function exitCodeFor(e: unknown, io: Io, running: string): number {
  if (e instanceof CommanderError) {
    // --help and --version arrive here as "errors" with exit code 0.
    return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (e instanceof UsageError) {
    io.err(`rackstrap: ${e.message}\n(see ${running} --help)`);
    return EXIT_USAGE;
  }
  if (e instanceof ExitCode) return e.code;
  if (e instanceof RackstrapError) {
    io.err(e.message);
    return EXIT_FAILURE;
  }
  io.err(`rackstrap: internal error (a bug, please report it):\n${e instanceof Error ? e.stack : String(e)}`);
  return EXIT_BUG;
}

/** Thrown by a command that has already printed its own output and only needs a non-zero exit. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
