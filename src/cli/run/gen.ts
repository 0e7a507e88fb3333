// rackstrap gen TARGET FILE [--out DIR] (definition: ../commands/gen.ts): what the network admin
// pastes into the site's DHCP server (dhcpd, Kea, dnsmasq), a reference dhclient.conf, and the
// pre-arrival worksheet; `topology --filer NAME`, one filer's topology as JSON, what
// `rackstrap plan --topology FILE` reads. Without --out one target goes to stdout; with it
// the target's files (every file for `all`) are written atomically. An invalid description, an
// unreadable key or a topology a server would not deliver intact writes nothing.
import { statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { parseKeaHa, withKeaHa } from '../../generate/kea-ha.js';
import { findFiler } from '../../options/rules/placement.js';
import { topologyFor } from '../../options/resolve.js';
import { buildGenModel, generateAll, generateTarget, isTarget, TARGETS, writeOutputs, type OutputFile } from '../../generate/index.js';
import { readDescriptionKey } from '../../cluster-key/key-file.js';
import { keyFileModeWarning } from '../../cluster-key/key-file-mode.js';
import type { GenOptions } from '../commands/gen.js';
import { loadOrReport } from './validate.js';
import type { Io } from '../main.js';

/** The Kea fragment as a whole kea-dhcp4.json: {"Dhcp4": ...} with the site settings a server
 *  needs to start (every interface, leases in memory): for `kea-dhcp4 -t` and for labs. */
function keaStandalone(fragment: string): string {
  const keys = JSON.parse(fragment) as Record<string, unknown>;
  const site = {
    'interfaces-config': { interfaces: ['*'] },
    'lease-database': { type: 'memfile', persist: false },
  };
  return `${JSON.stringify({ Dhcp4: { ...site, ...keys } }, null, 2)}\n`;
}

/** --out names a folder (made if missing): a file there is a mistake to say plainly. */
function checkOutFolder(out: string): void {
  let isFile = false;
  try {
    isFile = !statSync(out).isDirectory();
  } catch {
    return; // missing: writeOutputs makes it
  }
  if (isFile) throw new UsageError(`--out ${out}: is a file; --out takes a folder (made if missing) to write the files into`);
}

export async function run(io: Io, target: string, file: string, opts: GenOptions): Promise<void> {
  if (target !== 'all' && target !== 'topology' && !isTarget(target)) throw new UsageError(`unknown target "${target}" (${TARGETS.join(', ')}, topology, all)`);
  if (target === 'all' && opts.out === undefined) throw new UsageError('gen all writes several files: give --out DIR');
  if (target === 'topology' && opts.filer === undefined) throw new UsageError('gen topology makes one filer\'s topology: give --filer NAME');
  if (opts.out !== undefined) checkOutFolder(opts.out);
  const loaded = await loadOrReport(file, io);
  if (target === 'topology') {
    const f = findFiler(loaded.filers, opts.filer!);
    if (!f) throw new UsageError(`no filer named ${opts.filer} in ${file} (filers: ${[...loaded.filers.keys()].join(', ')})`);
    const text = `${JSON.stringify(topologyFor(loaded, f.name), null, 2)}\n`;
    if (opts.out === undefined) io.out(text);
    else for (const p of await writeOutputs(opts.out, [{ name: `topology-${f.name}.json`, content: text }])) io.out(p);
    return;
  }
  const key = await readDescriptionKey(loaded);
  const exposed = loaded.keyFile === undefined ? undefined : keyFileModeWarning(loaded.keyFile);
  if (exposed !== undefined) io.err(exposed);
  const model = buildGenModel(loaded, key === undefined ? {} : { key });
  const files: OutputFile[] = target === 'all' ? generateAll(model) : generateTarget(model, target as (typeof TARGETS)[number]);
  if (opts.standalone) {
    if (target !== 'kea') throw new UsageError('--standalone is for gen kea (the other targets are complete files already)');
    files[0] = { ...files[0]!, content: keaStandalone(files[0]!.content) };
  }
  if (opts.ha !== undefined) {
    if (target !== 'kea') throw new UsageError('--ha is for gen kea');
    files[0] = { ...files[0]!, content: withKeaHa(files[0]!.content, parseKeaHa(opts.ha, opts.haSelf, opts.haTiming)) };
  }
  const servesDhcp = target === 'all' || target === 'dhcpd' || target === 'kea' || target === 'dnsmasq';
  if (servesDhcp) for (const s of model.skipped) io.err(`warning: ${s.identifier} ${s.address}: ${s.reason}; not in the DHCPv4 configuration`);
  if (opts.out === undefined) {
    io.out(files[0]!.content);
    return;
  }
  const written = await writeOutputs(opts.out, files);
  if (opts.json) io.out(JSON.stringify({ target, out: opts.out, files: written, skipped: servesDhcp ? model.skipped : [] }, null, 1));
  else for (const p of written) io.out(p);
}
