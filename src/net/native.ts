// Loads rackstrap's native addon (native/rackstrap_net.c), which node-gyp builds into
// build/Release/ when `npm install`/`npm ci` runs in the project (binding.gyp is at its root).
// src/net/interface-socket.ts (UDP sockets), src/net/kernel-watch.ts (rtnetlink) and
// src/control/ (peer credentials) use it; everything else goes through those modules.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RackstrapError } from '../errors.js';
import { INSTALLED_LIB_DIR } from '../installed.js';

/** Options shared by every addon call: the namespace to create the socket in (a path). */
export interface NativeNetnsOptions {
  netns?: string;
}

export interface NativeUdpOptions extends NativeNetnsOptions {
  recvBufferSize?: number;
  reuseAddress?: boolean;
  /** IPv4 multicast group to join on the interface (by index); also made its multicast output. */
  multicastGroup?: string;
}

export interface NativeInterfaceInfo {
  index: number;
  mac: string;
  /** ARPHRD_* value; 1 is Ethernet. */
  hardwareType: number;
}

export interface NativeNetlinkOptions extends NativeNetnsOptions {
  /** SO_RCVBUFFORCE (root), else SO_RCVBUF capped by net.core.rmem_max. */
  recvBufferSize?: number;
}

/** An open rtnetlink subscription; `close()` stops polling and closes the fd. */
export interface NativeNetlinkWatch {
  readonly fd: number;
  close(): void;
}

/** Every datagram queued at one wake-up, or the errno name recv() failed with (ENOBUFS: the
 *  kernel dropped messages because the receive buffer was full). */
export type NativeNetlinkCallback = (error: string | null, datagrams: Buffer[]) => void;

export interface NativePeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** A UDP fd polled by the addon (udpWatch): each batch lands in `buffer` (slot i at i × slotSize),
 *  and `meta` holds [length, source address (host order), source port, flags (1: cut short)] per slot. */
export interface NativeUdpWatch {
  readonly fd: number;
  readonly buffer: Buffer;
  readonly meta: Uint32Array;
  /** Stops polling and closes the fd. */
  close(): void;
}

export interface NativeUdpWatchOptions {
  slots?: number;
  slotSize?: number;
  maxPerWake?: number;
}

/** The addon's exports. Errors thrown by them carry code (errno name), errno, syscall, ifname. */
export interface NativeNet {
  openUdpSocket(ifname: string, port: number, opts?: NativeUdpOptions): number;
  setArpEntry(ifname: string, ip: string, mac: string, opts?: NativeNetnsOptions): void;
  interfaceInfo(ifname: string, opts?: NativeNetnsOptions): NativeInterfaceInfo;
  /** A NETLINK_ROUTE socket joined to `groups` (RTNLGRP_* numbers), polled on Node's loop. */
  watchNetlink(groups: readonly number[], opts: NativeNetlinkOptions, onData: NativeNetlinkCallback): NativeNetlinkWatch;
  /** SO_PEERCRED of a connected unix socket. */
  peerCredentials(fd: number): NativePeerCredentials;
  /** One datagram to systemd's notification socket (a path, or @name for an abstract one). */
  sdNotify(socket: string, text: string): void;
  /** Takes over a UDP fd: recvmmsg() at each wake-up, onBatch(null, count) per batch (or the errno name). */
  udpWatch(fd: number, opts: NativeUdpWatchOptions, onBatch: (error: string | null, count: number) => void): NativeUdpWatch;
  /** sendmmsg() of `count` datagrams, message i = data[meta[5i], +meta[5i+1]) to meta[5i+2]:meta[5i+3]; meta[5i+4] gets 0 or its errno. Returns how many were gone through (fewer on EAGAIN). */
  udpSendMany(fd: number, data: Buffer, meta: Uint32Array, count: number): number;
  /** Bytes in the socket's receive queue (SO_MEMINFO). */
  udpBacklog(fd: number): number;
}

const ADDON_FILE = path.join('build', 'Release', 'rackstrap_net.node');

let loaded: NativeNet | undefined;

/** The project root: the nearest folder above this module holding binding.gyp. The same walk works
 *  from src/net (tsx) and dist/src/net (compiled). */
function findProjectRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'binding.gyp'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Loads the addon built under `root` (a project folder). Throws RackstrapError RS_NATIVE with
 *  the fix when it was not built or does not load. */
export function loadAddonFrom(root: string): NativeNet {
  const file = path.join(root, ADDON_FILE);
  if (!existsSync(file)) {
    throw new RackstrapError(
      'RS_NATIVE',
      `the native socket addon is not built: ${file} is missing. ` +
        `Run \`npm rebuild\` (or \`npx node-gyp rebuild\`) in ${root}; it needs python3, make and a C compiler.`,
    );
  }
  try {
    return createRequire(import.meta.url)(file) as NativeNet;
  } catch (cause) {
    throw new RackstrapError(
      'RS_NATIVE',
      `cannot load the native socket addon ${file} (rebuild it with \`npm rebuild\`): ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** The installed package's addon (a file of its own next to the bundled CLI). */
function loadInstalledAddon(dir: string): NativeNet {
  const file = path.join(dir, 'rackstrap_net.node');
  const mod = { exports: {} as NativeNet };
  try {
    process.dlopen(mod, file);
  } catch (cause) {
    throw new RackstrapError('RS_NATIVE', `cannot load the native socket addon ${file} (reinstall the rackstrap package): ${(cause as Error).message}`, { cause });
  }
  return mod.exports;
}

/** The project's addon, loaded once. */
export function loadNative(): NativeNet {
  if (loaded) return loaded;
  if (INSTALLED_LIB_DIR !== undefined) return (loaded = loadInstalledAddon(INSTALLED_LIB_DIR));
  const root = findProjectRoot();
  if (root === undefined) {
    throw new RackstrapError(
      'RS_NATIVE',
      `cannot find rackstrap's project folder (binding.gyp) above ${path.dirname(fileURLToPath(import.meta.url))}`,
    );
  }
  loaded = loadAddonFrom(root);
  return loaded;
}
