// Scale of `rackstrap gen`: a cluster of 64 filers with 252 virtual servers each, two
// data addresses per server (~32,000 identifiers). Measures validating the description, building
// the model, and generating every output (the figure with a 2 s goal), then checks that dhcpd and
// dnsmasq accept the generated files. A measurement, not a test: prints its figures.
//
//   npx tsc -p . && node dist/bench/gen-scale.js [filers] [vservers-per-filer] [repeats]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { loadClusterText } from '../src/options/load.js';
import { buildGenModel, generateAll, writeOutputs } from '../src/generate/index.js';

const FILERS = Number(process.argv[2] ?? 64);
const PER_FILER = Number(process.argv[3] ?? 252);
const REPEATS = Number(process.argv[4] ?? 5);

const hex = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();
/**
 * NIC `nic` of filer `f`: 00:07:34, the filer's index in two bytes, the NIC. Distinct for up to
 * 65,536 filers; eth0's is the base MAC, so a valid description has no warning about it.
 */
const mac = (f: number, nic: number): string => `00:07:34:${hex(f >> 8)}:${hex(f & 255)}:${hex(nic)}`;
/** The address `n` after `base` (both as 32-bit numbers), dotted. */
function ip(base: number, n: number): string {
  const v = (base + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The synthetic description: every filer on one template, its servers pinned to it (tables 1-252). */
export function describeScaleCluster(filers: number, perFiler: number): string {
  const mgmt = (10 << 24) >>> 0; // 10.0.0.0/16
  const data = ((10 << 24) | (128 << 16)) >>> 0; // 10.128.0.0/12
  const d: Record<string, unknown> = {
    cluster: { name: 'scale', id: '00:07:35:00:00:01', generation: 1 }, // apart from every filer's MACs (00:07:34:...)
    scope: {
      domain: 'scale.example',
      dns: ['10.0.0.53'],
      leaseTime: 86400,
      subnets: [
        { prefix: '10.0.0.0/16', routers: ['10.0.0.1'], bootstrap: { start: '10.0.255.1', end: '10.0.255.250' } },
        { prefix: '10.128.0.0/12', routers: ['10.128.0.1'] },
      ],
    },
    templates: {
      std: {
        bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], lacpRate: 'fast', miimon: 100 } },
        vlans: ['bond0.10', 'bond0.20'],
        aliases: { mgmt0: 'eth2', data0: 'bond0.10', data1: 'bond0.20' },
        mtu: { bond0: 9000 },
      },
    },
    filers: {} as Record<string, unknown>,
    vservers: {} as Record<string, unknown>,
  };
  const fs = d.filers as Record<string, unknown>;
  const vs = d.vservers as Record<string, unknown>;
  let n = 2;
  for (let f = 0; f < filers; f++) {
    const name = `F${f}`;
    fs[name] = {
      baseMac: mac(f, 0),
      nics: { eth0: mac(f, 0), eth1: mac(f, 1), eth2: mac(f, 2) },
      template: 'std',
      addresses: { mgmt0: ip(mgmt, 10 + f) },
    };
    for (let v = 0; v < perFiler; v++) {
      // Two homed per filer (in its topology), the rest placed by HA.
      vs[`V${f}x${v}`] = {
        table: v + 1,
        filers: [name],
        ...(v < 2 ? { home: name } : {}),
        addresses: { data0: { 0: ip(data, n++) }, data1: { 0: ip(data, n++) } },
      };
    }
  }
  return stringify(d);
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const text = describeScaleCluster(FILERS, PER_FILER);
  const load: number[] = [];
  const model: number[] = [];
  const gen: number[] = [];
  let files: ReturnType<typeof generateAll> = [];
  let identifiers = 0;
  for (let i = 0; i < REPEATS; i++) {
    let t0 = performance.now();
    const loaded = loadClusterText(text, 'scale.yaml');
    load.push(ms(t0));
    t0 = performance.now();
    const m = buildGenModel(loaded);
    model.push(ms(t0));
    t0 = performance.now();
    files = generateAll(m);
    gen.push(ms(t0));
    identifiers = m.addresses.length + m.filers.length;
  }
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
  console.log(`cluster: ${FILERS} filers x ${PER_FILER} virtual servers, ${identifiers} identifiers; ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`validate (loadClusterText): median ${median(load)} ms  [${load.join(', ')}]`);
  console.log(`model (topologies, reservations): median ${median(model)} ms  [${model.join(', ')}]`);
  console.log(`generate all outputs: median ${median(gen)} ms  [${gen.join(', ')}]`);
  console.log(`model + generate: median ${median(model.map((x, i) => x + gen[i]!))} ms (goal < 2000 ms)`);

  const dir = mkdtempSync(join(tmpdir(), 'rackstrap-gen-scale-'));
  try {
    let t0 = performance.now();
    await writeOutputs(dir, files);
    console.log(`write --out: ${ms(t0)} ms`);
    const conf = join(dir, 'site-dhcpd.conf');
    writeFileSync(conf, `authoritative;\nddns-update-style none;\ninclude "${join(dir, 'dhcpd.conf')}";\n`);
    t0 = performance.now();
    execFileSync('dhcpd', ['-t', '-cf', conf], { stdio: 'pipe' });
    console.log(`dhcpd -t on the generated file: passed in ${ms(t0)} ms`);
    const dconf = join(dir, 'site-dnsmasq.conf');
    writeFileSync(dconf, `port=0\ndhcp-lease-max=40000\nconf-file=${join(dir, 'dnsmasq.conf')}\n`);
    t0 = performance.now();
    execFileSync('dnsmasq', ['--test', '-C', dconf], { stdio: 'pipe' });
    console.log(`dnsmasq --test on the generated file: passed in ${ms(t0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
