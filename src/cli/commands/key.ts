// rackstrap key create FILE (implementation: ../run/key-create.ts).
import type { DefineCommand } from '../lazy.js';

export const defineKey: DefineCommand = (program, lazy) => {
  const key = program.command('key').description('make a cluster key (the secret that signs each filer\'s topology)');
  key
    .command('create')
    .description('write a new cluster key: 32 random bytes, readable by the owner only (0600); never overwrites')
    .argument('<file>', 'the key file to create, e.g. /etc/rackstrap/cluster.key')
    .action(lazy(() => import('../run/key-create.js')));
};
