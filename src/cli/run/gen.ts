// rackstrap gen TARGET FILE [--out DIR] (definition: ../commands/gen.ts): what the network admin
// pastes into the site's DHCP server (dhcpd, Kea, dnsmasq), a reference dhclient.conf, and the
// pre-arrival worksheet (seed 003 §5.2.6, §6). Without --out one target goes to stdout; with it
// the target's files (every file for `all`) are written atomically. An invalid description, an
// unreadable key or a topology a server would not deliver intact writes nothing.
import { UsageError } from '../../errors.js';
import { buildGenModel, generateAll, generateTarget, isTarget, TARGETS, writeOutputs, type OutputFile } from '../../generate/index.js';
import { readDescriptionKey } from '../../cluster-key/key-file.js';
import type { GenOptions } from '../commands/gen.js';
import { loadOrReport } from './validate.js';
import type { Io } from '../main.js';

export async function run(io: Io, target: string, file: string, opts: GenOptions): Promise<void> {
  if (target !== 'all' && !isTarget(target)) throw new UsageError(`unknown target "${target}" (${TARGETS.join(', ')}, all)`);
  if (target === 'all' && opts.out === undefined) throw new UsageError('gen all writes several files: give --out DIR');
  const loaded = await loadOrReport(file, io);
  const key = await readDescriptionKey(loaded);
  const model = buildGenModel(loaded, key === undefined ? {} : { key });
  const files: OutputFile[] = target === 'all' ? generateAll(model) : generateTarget(model, target as (typeof TARGETS)[number]);
  const servesDhcp = target === 'all' || target === 'dhcpd' || target === 'kea' || target === 'dnsmasq';
  if (servesDhcp) for (const s of model.skipped) io.err(`warning: ${s.identifier} ${s.address}: ${s.reason}; not in the DHCPv4 configuration`);
  if (opts.out === undefined) {
    io.out(files[0]!.content);
    return;
  }
  for (const p of await writeOutputs(opts.out, files)) io.out(p);
}
