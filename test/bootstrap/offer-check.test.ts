// A filer holding the key takes only the OFFERs and ACKs its signed topology vouches for: the
// address, prefix and router of each identifier as the description reserves them (tags from the
// generator's view of examples/cluster.yaml), and the subnet's own broadcast address.
import t from 'tap';
import { offerVerifier } from '../../src/bootstrap/offer-check.js';
import { createMessage, MESSAGE_TYPE, OP, OPTION, type AnyOptionValue } from '../../src/dhcp-packet/index.js';
import { loadClusterFile } from '../../src/options/load.js';
import { addressFactsByFiler } from '../../src/options/resolve.js';
import { addressTag } from '../../src/options/wire/index.js';

const KEY = Buffer.from('offer-check-test-key-0123456789abcdef');
const CID = '00:07:34:04:12:0E';

function offer(yiaddr: string, options: Array<[number, AnyOptionValue]>) {
  return createMessage({ op: OP.BOOTREPLY, type: MESSAGE_TYPE.OFFER, xid: 1, chaddr: Buffer.alloc(6), yiaddr, options: [[OPTION.SERVER_ID, '10.1.1.250'], ...options] });
}

t.test('the genuine offer passes; another address, mask, router or broadcast is refused with the reason', async (t) => {
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const tags = new Set(addressFactsByFiler(loaded).get('Filer1')!.map((f) => addressTag(KEY, f)));
  const mgmt0 = offerVerifier(KEY, tags, `${CID}:mgmt0:Filer1`);
  const genuine: Array<[number, AnyOptionValue]> = [[OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.ROUTERS, ['10.1.1.254']], [OPTION.BROADCAST_ADDRESS, '10.1.1.255']];
  t.equal(mgmt0(offer('10.1.1.2', genuine)), undefined, 'mgmt0 of Filer1: 10.1.1.2/24 via 10.1.1.254');
  t.equal(mgmt0(offer('10.1.1.2', genuine.slice(0, 2))), undefined, 'no broadcast option is fine');
  t.equal(mgmt0(offer('10.1.1.2', [...genuine.slice(0, 1), [OPTION.ROUTERS, ['192.0.2.1', '10.1.1.254']]])), undefined, 'an off-link router first: the agent takes the on-link one');
  t.match(mgmt0(offer('10.1.1.99', genuine)), /10\.1\.1\.99\/24 via 10\.1\.1\.254 is not what the signed topology reserves for 00:07:34:04:12:0E:mgmt0:Filer1/);
  t.match(mgmt0(offer('10.1.1.2', [[OPTION.SUBNET_MASK, '255.255.0.0'], [OPTION.ROUTERS, ['10.1.1.254']]])), /10\.1\.1\.2\/16/);
  t.match(mgmt0(offer('10.1.1.2', [[OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.ROUTERS, ['10.1.1.66']]])), /via 10\.1\.1\.66/, 'a rogue default route');
  t.match(mgmt0(offer('10.1.1.2', [[OPTION.SUBNET_MASK, '255.255.255.0']])), /without a router/);
  t.match(mgmt0(offer('10.1.1.2', [...genuine.slice(0, 2), [OPTION.BROADCAST_ADDRESS, '10.1.1.127']])), /broadcast 10\.1\.1\.127/);
  t.match(mgmt0(offer('10.1.1.2', [[OPTION.SUBNET_MASK, '255.0.255.0']])), /not contiguous/);
  // Filer2's address offered for Filer1's identifier, and Filer1's own address for a server homed elsewhere.
  t.ok(mgmt0(offer('10.1.1.4', genuine)));
  t.ok(offerVerifier(KEY, tags, `${CID}:data0:VsvrB:0`)(offer('10.3.4.1', [[OPTION.SUBNET_MASK, '255.255.0.0'], [OPTION.ROUTERS, ['10.3.255.254']]])), 'VsvrB is not homed on Filer1');
  t.equal(offerVerifier(KEY, tags, `${CID}:data0:VsvrA:1`)(offer('10.3.3.1', [[OPTION.SUBNET_MASK, '255.255.0.0'], [OPTION.ROUTERS, ['10.3.255.254']]])), undefined);
});
