// Lazy command loading: a command's definition (name, description, arguments, options) is built
// for every invocation and must stay cheap; its implementation is a module of src/cli/run/ that is
// imported only when that command runs. `--help`, `--version` and every other command never load
// it (nor what it imports: yaml, zod, execa, the server, the agent).
import type { Command } from 'commander';
import type { Io } from './main.js';

/** What a module of src/cli/run/ exports: commander's action arguments, after the output sinks. */
export interface RunModule {
  // Commander passes the command's arguments, then its options, then the Command itself.
  run(io: Io, ...args: any[]): Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Makes commander actions that import their implementation when they run. */
export type Lazy = (load: () => Promise<RunModule>) => (...args: unknown[]) => Promise<void>;

export function makeLazy(io: Io): Lazy {
  return (load) =>
    async (...args) => {
      const mod = await load();
      await mod.run(io, ...args);
    };
}

/** A command definition: adds one command (or a group with subcommands) to the program. */
export type DefineCommand = (program: Command, lazy: Lazy) => void;
