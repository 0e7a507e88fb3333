// Per-interface UDP sockets in real network namespaces: the DHCP exchanges of RFC 2131 §4.1
// (broadcast from an unconfigured interface, broadcast or ARP-assisted unicast reply) on a small
// LAN of two segments.
//
//   a (client, no addresses)          sw (two bridges)           b (server)
//   eth0 ───────────────────────────── br0 ───────────────────── eth0 10.0.0.1/24
//   eth1 ───────────────────────────── br1 ───────────────────── eth1 10.1.0.1/24

import { readlinkSync } from 'node:fs';
import t from 'tap';
import { SocketError } from '../../src/errors.js';
import {
  interfaceInfo,
  openInterfaceSocket,
  setArpEntry,
  type InterfaceRemoteInfo,
  type InterfaceSocket,
} from '../../src/net/interface-socket.js';
import { makeLab, type Lab, type TeardownHost } from '../helpers/netns.js';

const BROADCAST = '255.255.255.255'; // RFC 2131 §4.1 limited broadcast
const SERVER_PORT = 67; // RFC 2131 §4.1
const CLIENT_PORT = 68;
/** How long to listen for a datagram that must not arrive (a veth hop takes microseconds). */
const QUIET_MS = 300;

interface Received {
  text: string;
  rinfo: InterfaceRemoteInfo;
}

/** Records every datagram a socket gets, and lets a test wait for the next one. */
class Inbox {
  readonly all: Received[] = [];
  #waiters: Array<(r: Received) => void> = [];
  constructor(sock: InterfaceSocket) {
    sock.on('message', (buf, rinfo) => {
      const r = { text: buf.toString(), rinfo };
      this.all.push(r);
      for (const w of this.#waiters.splice(0)) w(r);
    });
  }
  /** The first datagram whose text is `text` (already received or the next ones). */
  waitFor(text: string, ms = 3000): Promise<Received> {
    const seen = this.all.find((r) => r.text === text);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no datagram "${text}" within ${ms} ms`)), ms);
      const check = (r: Received): void => {
        if (r.text === text) {
          clearTimeout(timer);
          resolve(r);
        } else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }
  texts(): string[] {
    return this.all.map((r) => r.text);
  }
}

/** What fn throws (undefined when it does not). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Lan {
  lab: Lab;
  a: string;
  b: string;
}

async function makeLan(t: TeardownHost): Promise<Lan> {
  const lab = await makeLab(t, { prefix: 'rssock' });
  const sw = await lab.ns('sw');
  const a = await lab.ns('a');
  const b = await lab.ns('b');
  await lab.bridge(sw, 'br0');
  await lab.bridge(sw, 'br1');
  await lab.link(a, 'eth0', sw, 'br0');
  await lab.link(a, 'eth1', sw, 'br1');
  await lab.link(b, 'eth0', sw, 'br0');
  await lab.link(b, 'eth1', sw, 'br1');
  await lab.ip(b, 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0');
  await lab.ip(b, 'addr', 'add', '10.1.0.1/24', 'dev', 'eth1');
  return { lab, a, b };
}

/** Opens a socket and closes it in teardown. */
async function open(
  t: TeardownHost,
  netns: string,
  ifname: string,
  port: number,
  extra: { reuseAddress?: boolean; recvBufferSize?: number } = {},
): Promise<InterfaceSocket> {
  const sock = await openInterfaceSocket({ ifname, port, netns, ...extra });
  t.teardown(() => sock.close());
  return sock;
}

t.test('DISCOVER-like broadcast from an unaddressed interface and the reply stay on their segment', async (t) => {
  const { lab, a, b } = await makeLan(t);
  const addrs = await lab.ipJson<Array<{ addr_info: Array<{ family: string }> }>>(a, 'addr', 'show', 'dev', 'eth0');
  t.equal(addrs.length, 1, "a's eth0 exists");
  t.same(addrs[0]?.addr_info.filter((i) => i.family === 'inet'), [], "a's eth0 has no IPv4 address");

  // Both client sockets on port 68 and both server sockets on port 67, without SO_REUSEADDR:
  // they coexist only because each is bound to its own interface.
  const a0 = await open(t, a, 'eth0', CLIENT_PORT, { reuseAddress: false });
  const a1 = await open(t, a, 'eth1', CLIENT_PORT, { reuseAddress: false });
  const b0 = await open(t, b, 'eth0', SERVER_PORT, { reuseAddress: false });
  const b1 = await open(t, b, 'eth1', SERVER_PORT, { reuseAddress: false });
  const [inA0, inA1, inB0, inB1] = [a0, a1, b0, b1].map((s) => new Inbox(s)) as [Inbox, Inbox, Inbox, Inbox];
  t.equal(a0.ifname, 'eth0');
  t.equal(b1.port, SERVER_PORT);

  await a0.send(Buffer.from('discover-eth0'), SERVER_PORT, BROADCAST);
  const got = await inB0.waitFor('discover-eth0');
  t.equal(got.rinfo.ifname, 'eth0', 'server knows the ingress interface');
  t.equal(got.rinfo.address, '0.0.0.0', 'sent with no source address (RFC 2131 §4.1)');
  t.equal(got.rinfo.port, CLIENT_PORT);

  await b0.send(Buffer.from('offer-eth0'), CLIENT_PORT, BROADCAST);
  const offer = await inA0.waitFor('offer-eth0');
  t.equal(offer.rinfo.address, '10.0.0.1');
  t.equal(offer.rinfo.port, SERVER_PORT);

  // The second segment, the other way round.
  await a1.send(Buffer.from('discover-eth1'), SERVER_PORT, BROADCAST);
  t.equal((await inB1.waitFor('discover-eth1')).rinfo.ifname, 'eth1');
  await b1.send(Buffer.from('offer-eth1'), CLIENT_PORT, BROADCAST);
  t.equal((await inA1.waitFor('offer-eth1')).rinfo.address, '10.1.0.1');

  await sleep(QUIET_MS); // anything misrouted would have arrived by now
  t.same(inB0.texts(), ['discover-eth0'], 'b/eth0 heard only its own segment');
  t.same(inB1.texts(), ['discover-eth1'], 'b/eth1 heard only its own segment');
  t.same(inA0.texts(), ['offer-eth0'], 'a/eth0 got only the reply sent on eth0');
  t.same(inA1.texts(), ['offer-eth1'], 'a/eth1 did not get the eth0 reply');
});

t.test('port 67 twice in one namespace: per interface yes, same interface no', async (t) => {
  const { b } = await makeLan(t);
  await open(t, b, 'eth0', SERVER_PORT, { reuseAddress: false });
  await open(t, b, 'eth1', SERVER_PORT, { reuseAddress: false });
  const err = await openInterfaceSocket({ ifname: 'eth0', port: SERVER_PORT, netns: b, reuseAddress: false }).then(
    (s) => s.close().then(() => undefined),
    (e: unknown) => e,
  );
  t.type(err, SocketError);
  t.equal((err as SocketError).errno, 'EADDRINUSE');
  t.match((err as SocketError).message, /port is already in use on interface eth0 in network namespace/);
});

t.test('an ARP entry lets the server unicast to an address the client cannot answer ARP for', async (t) => {
  const { lab, a, b } = await makeLan(t);
  // The client must receive a unicast to its future address without answering ARP for it (it
  // has not configured it yet, RFC 2131 §4.1). Modelled with the address on a NOARP interface:
  // the kernel accepts the datagram, but only an ARP entry on the server tells where to send it.
  await lab.ip(a, 'link', 'set', 'eth0', 'arp', 'off');
  await lab.ip(a, 'addr', 'add', '10.0.0.50/32', 'dev', 'eth0');
  await lab.ip(a, 'addr', 'add', '10.0.0.51/32', 'dev', 'eth0');
  const a0 = await open(t, a, 'eth0', CLIENT_PORT);
  const b0 = await open(t, b, 'eth0', SERVER_PORT);
  const inA0 = new Inbox(a0);

  const info = interfaceInfo('eth0', { netns: a });
  const links = await lab.ipJson<Array<{ address: string; ifindex: number }>>(a, 'link', 'show', 'eth0');
  t.equal(info.mac, links[0]?.address, 'interfaceInfo gives the hardware address');
  t.equal(info.index, links[0]?.ifindex, 'and the ifindex');
  t.equal(info.hardwareType, 1, 'Ethernet (ARPHRD_ETHER)');

  // Without an entry: the kernel asks ARP, nobody answers, nothing arrives.
  await b0.send(Buffer.from('to-51'), CLIENT_PORT, '10.0.0.51');
  await sleep(QUIET_MS);
  t.same(inA0.texts(), [], 'no ARP entry: the unicast does not arrive');

  setArpEntry({ ifname: 'eth0', ip: '10.0.0.50', mac: info.mac, netns: b });
  const neigh = await lab.ipJson<Array<{ dst: string; lladdr?: string; state?: string[] }>>(
    b, 'neigh', 'show', '10.0.0.50', 'dev', 'eth0',
  );
  t.equal(neigh[0]?.lladdr, info.mac, 'the server now has the client in its ARP table');

  await b0.send(Buffer.from('to-50'), CLIENT_PORT, '10.0.0.50');
  const got = await inA0.waitFor('to-50');
  t.equal(got.rinfo.address, '10.0.0.1');
  t.equal(got.rinfo.port, SERVER_PORT);
  t.notOk(inA0.texts().includes('to-51'), 'the unanswered one still did not arrive');
});

t.test('clear errors, and the thread always returns to its own namespace', async (t) => {
  const { lab, a } = await makeLan(t);
  const home = readlinkSync('/proc/thread-self/ns/net');

  const missing = await openInterfaceSocket({ ifname: 'nosuch0', port: SERVER_PORT, netns: a }).catch((e: unknown) => e);
  t.type(missing, SocketError);
  t.equal((missing as SocketError).code, 'RS_SOCKET');
  t.equal((missing as SocketError).errno, 'ENODEV');
  t.equal((missing as SocketError).ifname, 'nosuch0');
  t.match((missing as SocketError).message, /^interface nosuch0 in network namespace \/run\/netns\/rssock\d+-a does not exist/);

  const noNs = await openInterfaceSocket({ ifname: 'eth0', port: SERVER_PORT, netns: 'rssock-no-such-ns' }).catch((e: unknown) => e);
  t.type(noNs, SocketError);
  t.match((noNs as SocketError).message, /^network namespace \/run\/netns\/rssock-no-such-ns does not exist/);

  // A file that is not a namespace: setns itself fails; the thread must not have moved.
  const notNs = await openInterfaceSocket({ ifname: 'eth0', port: SERVER_PORT, netns: '/proc/self/status' }).catch((e: unknown) => e);
  t.type(notNs, SocketError);
  t.equal((notNs as SocketError).errno, 'EINVAL');

  const arpErr = thrown(() => setArpEntry({ ifname: 'nosuch0', ip: '10.0.0.9', mac: '02:00:00:00:00:09', netns: a }));
  t.type(arpErr, SocketError);
  t.equal((arpErr as SocketError).errno, 'ENODEV');
  t.match((arpErr as SocketError).message, /^interface nosuch0 in network namespace .* does not exist/);
  t.throws(() => setArpEntry({ ifname: 'eth0', ip: '10.0.0.9', mac: '02:00:00:00:00', netns: a }), TypeError);
  t.throws(() => setArpEntry({ ifname: 'eth0', ip: '10.0.0', mac: '02:00:00:00:00:09', netns: a }), TypeError);
  t.equal((thrown(() => interfaceInfo('nosuch0', { netns: a })) as SocketError).errno, 'ENODEV');
  await t.rejects(openInterfaceSocket({ ifname: 'eth0', port: 70000, netns: a }), RangeError);
  await t.rejects(openInterfaceSocket({ ifname: 'a-name-longer-than-15', port: 67, netns: a }), TypeError);

  // Sockets made in a namespace live there; the process did not move.
  await lab.ip(a, 'link', 'add', 'rsonly0', 'type', 'veth', 'peer', 'name', 'rsonly1');
  const s = await open(t, a, 'rsonly0', 0);
  t.ok(s.port > 0, 'port 0 picks a free port');
  t.equal(readlinkSync('/proc/thread-self/ns/net'), home, 'back in the original namespace');
  t.ok(interfaceInfo('rsonly0', { netns: a }).index > 0, 'rsonly0 exists in a');
  t.equal((thrown(() => interfaceInfo('rsonly0')) as SocketError).errno, 'ENODEV', 'but not where the test process is');
});

t.test('recvBufferSize passes the rmem_max cap as root (SO_RCVBUFFORCE)', async (t) => {
  const { lab, a } = await makeLan(t);
  const rmemMax = Number((await lab.exec(a, 'sysctl', ['-n', 'net.core.rmem_max'])).stdout);
  const want = Math.max(4 * rmemMax, 4 << 20);
  const s = await open(t, a, 'eth0', CLIENT_PORT, { recvBufferSize: want });
  // The kernel reports twice the requested size (bookkeeping overhead, socket(7)).
  const got = Number((await lab.exec(a, 'ss', ['-u', '-a', '-m', '-n', 'sport', '=', ':68'])).stdout.match(/rb(\d+)/)?.[1]);
  t.ok(got >= want, `receive buffer ${got} >= requested ${want} (rmem_max ${rmemMax})`);
  t.equal(s.ifname, 'eth0');
});
