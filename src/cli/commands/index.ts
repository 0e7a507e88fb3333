// Every subcommand registers itself here; each lives in its own file under commands/.
import type { Command } from 'commander';
import type { Io } from '../main.js';
import { registerValidate } from './validate.js';
import { registerExplain } from './explain.js';

export function registerCommands(program: Command, io: Io): void {
  void program;
  void io;
  registerValidate(program, io);
  registerExplain(program, io);
}
