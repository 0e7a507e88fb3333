// A cluster description whose one filer's topology is exactly a given number of bytes of option
// 43: examples/cluster.yaml plus virtual servers homed on that filer, the last one's name cut to
// land on the size. Optionally signed with a key file (the signature object counts too).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadClusterText, type LoadedCluster } from '../../../src/options/load.js';
import { buildGenModel, type GenModel } from '../../../src/generate/model.js';

export const EXAMPLE = join(process.cwd(), 'examples/cluster.yaml');

interface Pad {
  name: string;
}

function describe(base: Record<string, unknown>, filer: string, pads: Pad[], keyFile: string | undefined): string {
  const d = structuredClone(base) as { cluster: Record<string, unknown>; vservers: Record<string, unknown> };
  if (keyFile !== undefined) d.cluster.keyFile = keyFile;
  pads.forEach((p, i) => {
    d.vservers[p.name] = { table: 100 + i, home: filer, addresses: { data0: { 0: `10.3.${100 + i}.1` } } };
  });
  return stringify(d);
}

export interface Inflated {
  text: string;
  loaded: LoadedCluster;
  model: GenModel;
  size: number;
}

/**
 * The example with `filer`'s topology at exactly `target` bytes (topologyWireSize). Throws when
 * it cannot land exactly (it always can for targets above the example's own size).
 */
export function inflate(filer: string, target: number, opts: { dir: string; key?: Buffer } = { dir: process.cwd() }): Inflated {
  const base = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  let keyFile: string | undefined;
  if (opts.key) {
    keyFile = 'cluster.key';
    writeFileSync(join(opts.dir, keyFile), opts.key);
  }
  const file = join(opts.dir, 'cluster.yaml');
  const build = (pads: Pad[]): Inflated => {
    const text = describe(base, filer, pads, keyFile);
    const loaded = loadClusterText(text, file);
    const model = buildGenModel(loaded, opts.key ? { key: opts.key } : {});
    const size = model.filers.find((f) => f.filer === filer)!.wireSize;
    return { text, loaded, model, size };
  };
  const head = (i: number): string => `Pad${i}x`;
  const named = (i: number, len: number): Pad => ({ name: head(i) + 'y'.repeat(Math.max(0, len - head(i).length)) });
  // k pads: every byte of name length is one byte of topology, so between all-shortest and
  // all-longest names every size is reachable; find k whose range holds the target.
  for (let k = 0; k < 60; k++) {
    const min = build(Array.from({ length: k }, (_, i) => named(i, 0)));
    if (min.size === target) return min;
    if (min.size > target) break;
    const max = build(Array.from({ length: k }, (_, i) => named(i, 63)));
    if (max.size < target) continue;
    let extra = target - min.size;
    const pads = Array.from({ length: k }, (_, i) => {
      const room = 63 - head(i).length;
      const take = Math.min(room, extra);
      extra -= take;
      return named(i, head(i).length + take);
    });
    const hit = build(pads);
    if (hit.size !== target) throw new Error(`inflate: expected ${target} bytes, got ${hit.size}`);
    return hit;
  }
  throw new Error(`cannot make ${filer}'s topology exactly ${target} bytes`);
}
