// Runs the request path (decode → respond → encode → lease line) on synthetic DORAs against a
// scratch table, so that real requests meet optimized code. Without it the first few thousand
// requests of a burst (every filer of a rack powering on at once, or a load test) run in V8's
// interpreter and queue up for ~100 ms. Touches no real state. warmUp() runs it at once (while a
// worker validates the description); WarmUp runs it for a bounded time, and the rest in short
// slices when the server has nothing else to do.

import { OP, MESSAGE_TYPE, OPTION, createMessage, decodeMessage, encodeMessage, textClientId } from '../dhcp-packet/index.js';
import { noIdentifierHints } from '../options/identifier-hint.js';
import { toNumber, toText } from './address.js';
import type { ServerConfig, SubnetConfig } from './config.js';
import { formatLine, recordOf } from './lease-line.js';
import { isDurable, LeaseTable } from './lease-table.js';
import { DEFAULT_POLICY, respond, type Ingress } from './respond.js';

const SUBNET: SubnetConfig = {
  prefix: '192.0.2.0/24', // RFC 5737 documentation range: never a real network
  network: toNumber('192.0.2.0'),
  prefixLength: 24,
  mask: toNumber('255.255.255.0'),
  broadcast: toNumber('192.0.2.255'),
  netmaskText: '255.255.255.0',
  broadcastText: '192.0.2.255',
  routers: ['192.0.2.254'],
  dns: ['192.0.2.53'],
  ntp: [],
  domain: 'warm-up.invalid',
  leaseTime: 3600,
  pool: { start: toNumber('192.0.2.10'), end: toNumber('192.0.2.200') },
  bootstrap: undefined,
};

const CONFIG: ServerConfig = {
  file: '(warm-up)',
  clusterName: 'warmup',
  clusterId: '02:00:00:00:00:00',
  vendorClass: 'rackstrap',
  generation: 1,
  subnets: [SUBNET],
  reservations: new Map([
    ['02:00:00:00:00:00:mgmt0:W', { kind: 'filer', identifier: '02:00:00:00:00:00:mgmt0:W', address: toNumber('192.0.2.2'), addressText: '192.0.2.2', subnet: SUBNET, hostname: 'W' }],
  ]),
  topologies: new Map(),
  reservedBy: new Map([[toNumber('192.0.2.2'), '02:00:00:00:00:00:mgmt0:W']]),
  keyFingerprint: undefined,
  hints: noIdentifierHints('02:00:00:00:00:00'),
};

const INGRESS: Ingress = { ifname: 'warm0', addresses: [{ address: toNumber('192.0.2.1'), text: '192.0.2.1', prefixLength: 24 }], mtu: 1500 };

/** `rounds` DORAs (half relayed pool clients, half a reserved identifier) at once; returns the ms it took. */
export function warmUp(rounds = 1000): number {
  const t0 = performance.now();
  const w = new WarmUp(rounds);
  while (!w.done) w.run(Infinity);
  return performance.now() - t0;
}

/** The same DORAs, in pieces: run(ms) does rounds for about that long and returns. */
export class WarmUp {
  readonly #rounds: number;
  readonly #table = new LeaseTable();
  readonly #own = new Set(['192.0.2.1']);
  #now = Date.now();
  #i = 0;
  /** Time spent in slices so far, ms. */
  ms = 0;

  constructor(rounds = 1000) {
    this.#rounds = rounds;
  }

  get done(): boolean {
    return this.#i >= this.#rounds;
  }

  run(budgetMs: number): void {
    const t0 = performance.now();
    const deadline = t0 + budgetMs;
    while (this.#i < this.#rounds) {
      this.#round(this.#i++);
      if (performance.now() >= deadline) break;
    }
    this.ms += performance.now() - t0;
  }

  #round(i: number): void {
    const table = this.#table;
    const chaddr = Buffer.from([2, 0, 0, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
    const reserved = i % 2 === 1;
    const options: Array<[number, Buffer | number[] | number | string]> = [[OPTION.PARAMETER_REQUEST_LIST, [1, 3, 6, 15, 28, 42]]];
    if (reserved) options.push([OPTION.CLIENT_ID, textClientId('02:00:00:00:00:00:mgmt0:W')]);
    const giaddr = reserved ? '0.0.0.0' : '192.0.2.9';
    const ctx = { config: CONFIG, leases: table, now: this.#now, policy: DEFAULT_POLICY, ownAddresses: this.#own };
    const discover = createMessage({ op: OP.BOOTREQUEST, xid: i, type: MESSAGE_TYPE.DISCOVER, chaddr, giaddr, options });
    const offer = respond(decodeMessage(encodeMessage(discover)), INGRESS, ctx);
    for (const op of offer.ops) table.apply(op);
    if (!offer.reply) return;
    const request = createMessage({
      op: OP.BOOTREQUEST, xid: i, type: MESSAGE_TYPE.REQUEST, chaddr, giaddr,
      options: [...options, [OPTION.SERVER_ID, '192.0.2.1'], [OPTION.REQUESTED_ADDRESS, offer.reply.message.yiaddr]],
    });
    const now = ++this.#now;
    const ack = respond(decodeMessage(encodeMessage(request)), INGRESS, { ...ctx, now });
    for (const op of ack.ops) {
      table.apply(op);
      if (isDurable(op)) formatLine(recordOf(op, now, toText));
    }
    JSON.stringify(ack.log);
  }
}
