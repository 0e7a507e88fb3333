// The CLI's commands. Every invocation builds all their definitions, so definitions are cheap:
// name, description, arguments and options, and imports of nothing heavier than constants.
// Each implementation lives in src/cli/run/ and is imported only when its command runs.
//
// To add a command `foo`:
//   1. src/cli/run/foo.ts: `export async function run(io: Io, ...args)` — commander's action
//      arguments (positional arguments, then the options object, then the Command). Import
//      whatever the work needs here.
//   2. src/cli/commands/foo.ts: `export const defineFoo: DefineCommand = (program, lazy) => {
//        program.command('foo').description('...').argument('<file>', '...').option('--json', '...')
//          .action(lazy(() => import('../run/foo.js')));
//      };` — import only `import type` or small constant modules (never yaml, zod, execa or the
//      server/agent) so `rackstrap --help` and the other commands do not pay for it. A group
//      (`foo create`, `foo list`) adds its subcommands here, one lazy action each.
//   3. Add defineFoo to COMMANDS below (the order is the order of --help).
// test/cli/lazy-load.test.ts checks that running one command loads none of the others.
import type { Command } from 'commander';
import type { DefineCommand } from '../lazy.js';
import { makeLazy } from '../lazy.js';
import type { Io } from '../main.js';
import { defineValidate } from './validate.js';
import { defineExplain } from './explain.js';
import { defineGen } from './gen.js';
import { defineServe } from './serve.js';
import { definePairStatus } from './pair-status.js';
import { defineAgent } from './agent.js';
import { definePlan } from './plan.js';
import { defineStatus } from './status.js';
import { defineDiscover } from './discover.js';
import { defineLab } from './lab.js';
import { defineJoin, defineJoinServer, defineToken } from './join.js';
import { defineShow } from './show.js';
import { defineKey } from './key.js';

export const COMMANDS: readonly DefineCommand[] = [
  defineValidate,
  defineExplain,
  defineGen,
  defineServe,
  definePairStatus,
  defineAgent,
  definePlan,
  defineStatus,
  defineDiscover,
  defineLab,
  defineJoin,
  defineToken,
  defineJoinServer,
  defineShow,
  defineKey,
];

export function registerCommands(program: Command, io: Io): void {
  const lazy = makeLazy(io);
  for (const define of COMMANDS) define(program, lazy);
}
