// Shared by the dhcp-server tests: the example cluster (optionally with a pool and a key), DHCP
// requests as real clients send them (encoded and decoded again, so respond() sees what the codec
// makes of the wire), and a small harness that applies respond()'s operations like the server does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import {
  OP, OPTION, MESSAGE_TYPE, createMessage, decodeMessage, encodeMessage, textClientId,
  type AnyOptionValue, type DhcpMessage, type MessageType,
} from '../../../src/dhcp-packet/index.js';
import { toNumber } from '../../../src/dhcp-server/address.js';
import { buildServerConfig, type ServerConfig } from '../../../src/dhcp-server/config.js';
import { LeaseTable } from '../../../src/dhcp-server/lease-table.js';
import { DEFAULT_POLICY, respond, type Decision, type Ingress, type Policy } from '../../../src/dhcp-server/respond.js';
import { loadClusterText, type LoadedCluster } from '../../../src/options/load.js';

export const EXAMPLE = join(process.cwd(), 'examples', 'cluster.yaml');
export const CLUSTER_ID = '00:07:34:04:12:0E';
export const id = (rest: string): string => `${CLUSTER_ID}:${rest}`;
/** An example key (not a secret), as in test/fixtures/wire. */
export const KEY = Buffer.from('rackstrap-example-cluster-key-0001');

export interface ExampleEdits {
  /** Pool for subnet i: `{ 1: { start, end } }`. */
  pools?: Record<number, { start: string; end: string }>;
  keyFile?: string;
  leaseTime?: number;
  /** Any other value: [path, value]. */
  set?: Array<[Array<string | number>, unknown]>;
}

/** examples/cluster.yaml as text, edited through the YAML document so comments and layout stay. */
export function exampleText(edits: ExampleEdits = {}): string {
  const doc = parseDocument(readFileSync(EXAMPLE, 'utf8'));
  for (const [i, pool] of Object.entries(edits.pools ?? {})) doc.setIn(['scope', 'subnets', Number(i), 'pool'], doc.createNode(pool, { flow: true }));
  if (edits.keyFile !== undefined) doc.setIn(['cluster', 'keyFile'], edits.keyFile);
  if (edits.leaseTime !== undefined) doc.setIn(['scope', 'leaseTime'], edits.leaseTime);
  for (const [path, value] of edits.set ?? []) doc.setIn(path, value);
  return doc.toString();
}

export function exampleCluster(edits: ExampleEdits = {}): LoadedCluster {
  return loadClusterText(exampleText(edits), 'cluster.yaml');
}

export function exampleConfig(edits: ExampleEdits = {}, key?: Buffer): ServerConfig {
  return buildServerConfig(exampleCluster(edits), key ? { key } : {});
}

export interface RequestSpec {
  type: MessageType;
  xid?: number;
  mac?: string;
  /** Text client identifier (option 61). */
  clientId?: string;
  /** Send the identifier behind a 0 type byte (RFC 2132 §9.14), as dhcpcd -I does. */
  typeByte?: boolean;
  rawClientId?: Buffer;
  vendorClass?: string;
  prl?: number[];
  maxSize?: number;
  requested?: string;
  serverId?: string;
  ciaddr?: string;
  giaddr?: string;
  broadcast?: boolean;
  relayInfo?: Buffer;
  op?: 1 | 2;
  hops?: number;
  /** Source address of the datagram (default 0.0.0.0, a client without an address). */
  from?: string;
}

/** The PRL dhclient sends with the reference configuration (subnet options, host name, 43). */
export const PRL = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42, 43];

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** A request as the wire carries it: built, encoded, decoded. */
export function request(spec: RequestSpec): DhcpMessage {
  const options: Array<[number, AnyOptionValue]> = [];
  if (spec.requested) options.push([OPTION.REQUESTED_ADDRESS, spec.requested]);
  if (spec.serverId) options.push([OPTION.SERVER_ID, spec.serverId]);
  if (spec.maxSize) options.push([OPTION.MAX_MESSAGE_SIZE, spec.maxSize]);
  if (spec.vendorClass) options.push([OPTION.VENDOR_CLASS, spec.vendorClass]);
  if (spec.clientId) options.push([OPTION.CLIENT_ID, textClientId(spec.clientId, { typeByte: spec.typeByte ?? false })]);
  if (spec.rawClientId) options.push([OPTION.CLIENT_ID, spec.rawClientId]);
  if (spec.prl) options.push([OPTION.PARAMETER_REQUEST_LIST, spec.prl]);
  if (spec.relayInfo) options.push([OPTION.RELAY_AGENT_INFO, spec.relayInfo]);
  const msg = createMessage({
    op: spec.op ?? OP.BOOTREQUEST,
    hops: spec.hops ?? 0,
    xid: spec.xid ?? 0x1234abcd,
    type: spec.type,
    flags: spec.broadcast ? 0x8000 : 0,
    ciaddr: spec.ciaddr ?? '0.0.0.0',
    giaddr: spec.giaddr ?? '0.0.0.0',
    chaddr: macBytes(spec.mac ?? '52:54:00:00:00:01'),
    options,
  });
  return decodeMessage(encodeMessage(msg, { maxSize: 1500 }));
}

export function ingress(ifname: string, cidrs: string[], mtu = 1500): Ingress {
  return {
    ifname,
    mtu,
    addresses: cidrs.map((c) => {
      const [text, len] = c.split('/') as [string, string];
      return { address: toNumber(text), text, prefixLength: Number(len) };
    }),
  };
}

/** The server's view of two interfaces: eth0 on the management subnet, eth1 on 10.2.2.0/24. */
export const ETH0 = ingress('eth0', ['10.1.1.1/24']);
export const ETH1 = ingress('eth1', ['10.2.2.250/24']);

/**
 * respond() with the server's bookkeeping: a table, a fake clock, our own addresses; each
 * decision's operations are applied to the table, as the server does before it sends.
 */
export class Harness {
  readonly table = new LeaseTable();
  now = Date.UTC(2026, 0, 1);
  config: ServerConfig;
  policy: Policy;
  own: Set<string>;

  constructor(config: ServerConfig, opts: { policy?: Partial<Policy>; own?: string[] } = {}) {
    this.config = config;
    this.policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.own = new Set(opts.own ?? ['10.1.1.1', '10.2.2.250']);
  }

  /** Decides and applies. */
  send(spec: RequestSpec, via: Ingress = ETH0): Decision {
    const d = this.decide(spec, via);
    for (const op of d.ops) this.table.apply(op);
    return d;
  }

  /** Decides without applying. */
  decide(spec: RequestSpec, via: Ingress = ETH0): Decision {
    return respond(request(spec), via, { config: this.config, leases: this.table, now: this.now, policy: this.policy, ownAddresses: this.own, from: spec.from ?? spec.ciaddr ?? '0.0.0.0' });
  }

  advance(seconds: number): void {
    this.now += seconds * 1000;
  }

  /** DISCOVER then REQUEST (selecting) for what was offered; returns both decisions. */
  dora(spec: Omit<RequestSpec, 'type'>, via: Ingress = ETH0): { offer: Decision; ack: Decision | undefined } {
    const offer = this.send({ ...spec, type: MESSAGE_TYPE.DISCOVER }, via);
    if (!offer.reply) return { offer, ack: undefined };
    const serverId = offer.reply.message.options.get(OPTION.SERVER_ID);
    const ack = this.send({ ...spec, type: MESSAGE_TYPE.REQUEST, serverId, requested: offer.reply.message.yiaddr }, via);
    return { offer, ack };
  }
}

/** The reply's type, decoded from the bytes that would go on the wire. */
export function wireReply(d: Decision): DhcpMessage | undefined {
  return d.reply ? decodeMessage(d.reply.bytes) : undefined;
}
