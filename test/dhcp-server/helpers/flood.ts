// A bounded DISCOVER flood from random MACs, as a separate process (so the test's own event loop,
// which times the filers, is not the one sending):
//
//   node flood.js <netns> <ifname> <count> <max-seconds> <packets-per-second> <seed> <gate-bytes>
//
// Sends at most <count> DISCOVERs (broadcast, a fresh random chaddr and xid each, no client id)
// out of <ifname> in network namespace <netns>, from port 68, in bursts every 5 ms at the given
// rate, and stops at <count> or after <max-seconds>, whichever comes first. Run inside the
// server's namespace, it holds back while the server's receive queue (UDP port 67 in
// /proc/net/udp) is above <gate-bytes>: the flood is as strong as the server can read, never a
// link flood that fills the kernel's queue, where no server could tell a filer from a stranger. Prints {"started":true} once its socket is open,
// then {"sent":N,"ms":T} at the end.

import { MESSAGE_TYPE, OP, OPTION, createMessage, encodeMessage } from '../../../src/dhcp-packet/index.js';
import { openInterfaceSocket } from '../../../src/net/interface-socket.js';
import { readUdpBacklog } from '../../../src/dhcp-server/backlog.js';
import { Rng } from '../../dhcp-packet/helpers/fuzz.js';

const CHADDR_OFFSET = 28; // RFC 2131 §2: op htype hlen hops xid(4) secs(2) flags(2) ciaddr yiaddr siaddr giaddr
const XID_OFFSET = 4;
const BURST_MS = 5;

async function main(): Promise<void> {
  const [netns, ifname, countText, secondsText, rateText, seedText, gateText] = process.argv.slice(2);
  if (netns === undefined || ifname === undefined || gateText === undefined) throw new Error('usage: flood.js <netns> <ifname> <count> <max-seconds> <pps> <seed> <gate-bytes>');
  const gate = Number(gateText);
  const count = Number(countText);
  const maxMs = Number(secondsText) * 1000;
  const perBurst = Math.max(1, Math.round((Number(rateText) * BURST_MS) / 1000));
  const rng = new Rng(Number(seedText));
  const template = encodeMessage(createMessage({
    op: OP.BOOTREQUEST, xid: 0, type: MESSAGE_TYPE.DISCOVER, chaddr: Buffer.alloc(6),
    options: [[OPTION.PARAMETER_REQUEST_LIST, [1, 3, 6, 15, 28]]],
  }));
  const sock = await openInterfaceSocket({ ifname, port: 68, netns });
  process.stdout.write(`${JSON.stringify({ started: true })}\n`);
  const t0 = performance.now();
  let sent = 0;
  let heldBack = 0;
  while (sent < count && performance.now() - t0 < maxMs) {
    const burstStart = performance.now();
    if (readUdpBacklog(67) > gate) {
      heldBack++;
      await new Promise((r) => setTimeout(r, BURST_MS));
      continue;
    }
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < perBurst && sent < count; i++, sent++) {
      const pkt = Buffer.from(template);
      pkt.writeUInt32BE(rng.next(), XID_OFFSET);
      const mac = rng.bytes(6);
      mac[0] = (mac[0]! & 0xfe) | 0x02; // unicast, locally administered
      mac.copy(pkt, CHADDR_OFFSET);
      sends.push(sock.send(pkt, 67, '255.255.255.255').catch(() => undefined));
    }
    await Promise.all(sends);
    const wait = BURST_MS - (performance.now() - burstStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const ms = Math.round(performance.now() - t0);
  await sock.close();
  process.stdout.write(`${JSON.stringify({ sent, ms, heldBack })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
