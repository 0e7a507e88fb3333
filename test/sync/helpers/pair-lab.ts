// A server pair in namespaces, for the takeover and partition tests.
//
//   sw: br-a ──tie── br-b          (the client network, cut in two by taking `tie` down)
//        │  │          │  │
//       na  ca        nb  cb       servers A and B, a load client on each side
//   na sync0 ─────────── nb sync0  (the sync link, 10.9.0.1/30 – 10.9.0.2/30)
//
// Addresses: A 10.3.0.11/16, B 10.3.0.12/16, service address 10.3.0.1/16 (held by the active),
// clients 10.3.0.2 (side A) and 10.3.0.3 (side B), relaying like perfdhcp does.

import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toNumber, toText } from '../../../src/dhcp-server/address.js';
import { opOf } from '../../../src/dhcp-server/lease-line.js';
import { readLeaseLog } from '../../../src/dhcp-server/lease-log.js';
import { LeaseTable } from '../../../src/dhcp-server/lease-table.js';
import { exampleText } from '../../dhcp-server/helpers/fixtures.js';
import { ServeProcess } from '../../dhcp-server/helpers/serve.js';
export { checkWire, clientKey, LoadClient, type WireEvent } from '../../dhcp-server/helpers/load-client.js';
import { makeLab, type Lab, type TeardownHost } from '../../helpers/netns.js';

export const SERVICE = '10.3.0.1';
export const NODE_ADDRESS = { a: '10.3.0.11', b: '10.3.0.12' } as const;
export const SYNC_ADDRESS = { a: '10.9.0.1', b: '10.9.0.2' } as const;
export const CLIENT_ADDRESS = { a: '10.3.0.2', b: '10.3.0.3' } as const;
export const SECRET = Buffer.from('pair secret for the namespace tests only, 0001');

export interface PairLab {
  lab: Lab;
  dir: string;
  config: string;
  secretFile: string;
  ns: { a: string; b: string; ca: string; cb: string; sw: string };
  pool: { start: string; end: string };
}

export async function pairLab(t: TeardownHost & { testdir(): string }, prefix: string, pool: { start: string; end: string }): Promise<PairLab> {
  const lab = await makeLab(t, { prefix });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: { 2: pool } }));
  const secretFile = join(dir, 'pair.secret');
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br-a');
  await lab.bridge(sw, 'br-b');
  await lab.ip(sw, 'link', 'add', 'tie-a', 'type', 'veth', 'peer', 'name', 'tie-b');
  await lab.ip(sw, 'link', 'set', 'tie-a', 'master', 'br-a', 'up');
  await lab.ip(sw, 'link', 'set', 'tie-b', 'master', 'br-b', 'up');
  const a = await lab.ns('na');
  const b = await lab.ns('nb');
  const ca = await lab.ns('ca');
  const cb = await lab.ns('cb');
  await lab.link(a, 'lan0', sw, 'br-a');
  await lab.link(ca, 'c0', sw, 'br-a');
  await lab.link(b, 'lan0', sw, 'br-b');
  await lab.link(cb, 'c0', sw, 'br-b');
  await lab.ip(a, 'addr', 'add', `${NODE_ADDRESS.a}/16`, 'dev', 'lan0');
  await lab.ip(b, 'addr', 'add', `${NODE_ADDRESS.b}/16`, 'dev', 'lan0');
  await lab.ip(ca, 'addr', 'add', `${CLIENT_ADDRESS.a}/16`, 'dev', 'c0');
  await lab.ip(cb, 'addr', 'add', `${CLIENT_ADDRESS.b}/16`, 'dev', 'c0');
  await lab.veth(a, 'sync0', b, 'sync0');
  await lab.ip(a, 'addr', 'add', `${SYNC_ADDRESS.a}/30`, 'dev', 'sync0');
  await lab.ip(b, 'addr', 'add', `${SYNC_ADDRESS.b}/30`, 'dev', 'sync0');
  return { lab, dir, config, secretFile, ns: { a, b, ca, cb, sw }, pool };
}

export function serveArgs(l: PairLab, node: 'a' | 'b', extra: string[] = []): { config: string; interfaces: string[]; leaseFile: string; logLevel: string; extra: string[] } {
  const other = node === 'a' ? 'b' : 'a';
  return {
    config: l.config,
    interfaces: ['lan0'],
    leaseFile: join(l.dir, `leases-${node}.log`),
    logLevel: 'warn',
    extra: [
      '--pair-name', `node-${node}`,
      '--pair-listen', `${SYNC_ADDRESS[node]}:6767`,
      '--pair-peer', `${SYNC_ADDRESS[other]}:6767`,
      '--pair-path', NODE_ADDRESS[other],
      '--pair-secret-file', l.secretFile,
      '--service-address', `${SERVICE}/16`,
      ...(node === 'a' ? ['--pair-preferred'] : []),
      ...extra,
    ],
  };
}

export function startNode(l: PairLab, node: 'a' | 'b', extra: string[] = []): Promise<ServeProcess> {
  // A generous start-up bound: the machine running the suite may be very busy.
  return ServeProcess.ready(l.lab, l.ns[node], serveArgs(l, node, extra), 60_000);
}

/** The role a server logged last (pair-role lines). */
export function roleOf(s: ServeProcess): string | undefined {
  const lines = s.lines.filter((x) => x.event === 'pair-role');
  return lines.length ? String(lines[lines.length - 1]!.role) : undefined;
}

/** Waits until the server's last logged role is `role`. */
export async function waitRole(s: ServeProcess, role: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (roleOf(s) !== role) {
    if (s.exitStatus) throw new Error(`server exited while waiting for role ${role}: ${s.tail()}`);
    if (Date.now() > deadline) throw new Error(`no role ${role} within ${ms} ms (last ${roleOf(s)}):\n${s.tail(30)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A server's live bound leases, from its lease log (address → client key). */
export async function tableOf(leaseFile: string): Promise<Map<string, string>> {
  const replay = await readLeaseLog(leaseFile);
  const table = new LeaseTable();
  for (const r of replay.records) {
    const op = opOf(r);
    if (op) table.apply(op);
  }
  const out = new Map<string, string>();
  for (const l of table.bound(Date.now())) out.set(toText(l.address), l.client);
  return out;
}

export const inPool = (l: PairLab, address: string): boolean => toNumber(address) >= toNumber(l.pool.start) && toNumber(address) <= toNumber(l.pool.end);
