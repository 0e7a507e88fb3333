// Every subcommand registers itself here; each lives in its own file under commands/.
import type { Command } from 'commander';
import type { Io } from '../main.js';
import { registerValidate } from './validate.js';
import { registerExplain } from './explain.js';
import { registerGen } from './gen.js';
import { registerServe } from './serve.js';
import { registerAgent } from './agent.js';
import { registerPlan } from './plan.js';
import { registerStatus } from './status.js';

export function registerCommands(program: Command, io: Io): void {
  void program;
  void io;
  registerValidate(program, io);
  registerExplain(program, io);
  registerGen(program, io);
  registerServe(program, io);
  registerAgent(program, io);
  registerPlan(program, io);
  registerStatus(program, io);
}
