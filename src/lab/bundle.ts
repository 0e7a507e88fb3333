// The lab's own bundle: the CLI, the description loader's worker and the guest's program, each one
// CommonJS file, plus the socket addon, in one folder the guest reads through hostfs. Starting a
// Node program from dist/ in the guest reads hundreds of modules, each file lookup a round of
// syscalls through ptrace; one file per program is a fraction of that, and the lab starts several
// (the guest's program, `rackstrap serve`, one agent per filer, `agent --down`).
//
// Built with esbuild (a development dependency, as for the package: scripts/build-deb.sh) from the
// TypeScript sources, into dist/lab-bundle/<stamp>/, where the stamp hashes every input's path,
// size and modification time: a later run whose inputs did not change reuses it, and concurrent
// runs never write into a folder another guest is reading. Without esbuild (an installed package)
// the lab runs from dist/ as before.
//
// The bundle is told where it lives through the environment (RACKSTRAP_LAB_LIB: the addon and the
// worker; RACKSTRAP_LAB_CLI: the CLI the guest's program spawns), so the folder can be renamed into
// place after the build.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAB_LIB_ENV = 'RACKSTRAP_LAB_LIB';
export const LAB_CLI_ENV = 'RACKSTRAP_LAB_CLI';

/** The programs of the bundle, by output file name. */
const ENTRIES = {
  'rackstrap.cjs': 'src/cli/bin.ts',
  'config-worker.cjs': 'src/dhcp-server/config-worker.ts',
  'lab-guest.cjs': 'src/lab/guest-main.ts',
} as const;
const ADDON = 'build/Release/rackstrap_net.node';
const ADDON_FILE = 'rackstrap_net.node';
const STAMP_FILE = 'inputs.json';

export interface LabBundle {
  dir: string;
  /** The guest's program (guest-main, bundled). */
  guest: string;
  /** Environment for every program run from the bundle. */
  env: Record<string, string>;
  /** Built now (false: reused). */
  built: boolean;
  ms: number;
}

/** Stamp of a set of input files (relative to root): their paths, sizes and modification times. */
function stampOf(root: string, inputs: readonly string[]): string | undefined {
  const h = createHash('sha256');
  for (const f of [...inputs].sort()) {
    try {
      const st = statSync(join(root, f));
      h.update(`${f}\0${st.size}\0${st.mtimeMs}\n`);
    } catch {
      return undefined;
    }
  }
  return h.digest('hex').slice(0, 16);
}

function complete(dir: string): boolean {
  return [...Object.keys(ENTRIES), ADDON_FILE, STAMP_FILE].every((f) => existsSync(join(dir, f)));
}

function bundleOf(dir: string, built: boolean, started: number): LabBundle {
  return {
    dir,
    guest: join(dir, 'lab-guest.cjs'),
    env: { [LAB_LIB_ENV]: dir, [LAB_CLI_ENV]: join(dir, 'rackstrap.cjs') },
    built,
    ms: performance.now() - started,
  };
}

/**
 * The bundle of the checkout at `root`: reused when no input changed since it was built, built
 * otherwise. Undefined when it cannot be built here (no esbuild, no sources, no addon): the caller
 * runs dist/ instead. `reason` receives why.
 */
export async function labBundle(root: string, reason: (why: string) => void = () => undefined): Promise<LabBundle | undefined> {
  const started = performance.now();
  const base = join(root, 'dist', 'lab-bundle');
  if (!existsSync(join(root, ADDON)) || !Object.values(ENTRIES).every((e) => existsSync(join(root, e)))) {
    reason('no TypeScript sources or socket addon in this checkout');
    return undefined;
  }
  // Reuse: every folder whose recorded inputs still have the stamp it was built with.
  if (existsSync(base)) {
    for (const name of readdirSync(base)) {
      const dir = join(base, name);
      if (!complete(dir)) continue;
      try {
        const inputs = JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as string[];
        if (stampOf(root, [...inputs, ADDON]) === name) return bundleOf(dir, false, started);
      } catch {
        // unreadable stamp: not reusable
      }
    }
  }
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    reason('esbuild is not installed (a development dependency)');
    return undefined;
  }
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.building-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const inputs = new Set<string>(['package.json']);
    await Promise.all(
      Object.entries(ENTRIES).map(async ([out, entry]) => {
        const r = await esbuild.build({
          absWorkingDir: root,
          entryPoints: [entry],
          outfile: join(tmp, out),
          bundle: true,
          platform: 'node',
          target: 'node20',
          format: 'cjs',
          logLevel: 'silent',
          legalComments: 'none',
          metafile: true,
          // dbus-next requires x11 only to find a session bus through an X display (build-deb.sh);
          // esbuild itself is what `rackstrap lab` bundles with, on the host, never in the guest.
          external: ['x11', 'esbuild'],
          define: {
            RACKSTRAP_VERSION: JSON.stringify(version),
            RACKSTRAP_LIB_DIR: `process.env.${LAB_LIB_ENV}`,
            RACKSTRAP_LAB_CLI: `process.env.${LAB_CLI_ENV}`,
          },
        });
        for (const f of Object.keys(r.metafile.inputs)) inputs.add(f);
      }),
    );
    copyFileSync(join(root, ADDON), join(tmp, ADDON_FILE));
    const list = [...inputs].sort();
    const stamp = stampOf(root, [...list, ADDON]);
    if (stamp === undefined) throw new Error('an input changed while bundling');
    writeFileSync(join(tmp, STAMP_FILE), `${JSON.stringify(list)}\n`);
    const dir = join(base, stamp);
    try {
      renameSync(tmp, dir);
    } catch {
      // Another run built the same inputs first: use its folder.
      rmSync(tmp, { recursive: true, force: true });
      if (!complete(dir)) throw new Error(`${dir} is incomplete`);
      return bundleOf(dir, false, started);
    }
    removeStale(base, stamp);
    return bundleOf(dir, true, started);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    reason(`bundling failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return undefined;
  }
}

/** Bundles of older inputs, left for a while in case a guest started just before still reads one. */
function removeStale(base: string, keep: string): void {
  const hour = 3600_000;
  for (const name of readdirSync(base)) {
    if (name === keep) continue;
    const dir = join(base, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > hour) rmSync(dir, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}
