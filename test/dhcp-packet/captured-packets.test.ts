// Datagrams sent by the real clients installed here (dhclient 4.4, busybox udhcpc 1.35,
// dhcpcd 9.4), captured by test/fixtures/packets/capture.sh: fixed MAC 52:54:00:12:34:56,
// hostname filer1, server 192.0.2.1 offering 192.0.2.50.
import t from 'tap';
import {
  clientIdOf, decodeMessage, encodeMessage, hardwareAddress, isBroadcast, messageType, maxMessageSize, MESSAGE_TYPE, OP, OPTION,
  type ClientId,
} from '../../src/dhcp-packet/index.js';
import { FIXTURE_NAMES, loadHex, roundTrip } from './helpers/support.js';

interface Expect {
  clientId: ClientId | undefined;
  vendorClass?: string;
  hostname?: string;
  maxSize?: number;
  requests: number[];
}

const expected: Record<string, Expect> = {
  'dhclient-text-id': {
    clientId: { kind: 'text', text: 'rackstrap-c1:mgmt0:Filer1', typeByte: false },
    vendorClass: 'rackstrap', hostname: 'filer1', maxSize: 1500, requests: [1, 3, 6, 15, 12, 42, 43],
  },
  'dhclient-default': { clientId: undefined, hostname: 'filer1', requests: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42] },
  'udhcpc-typed-text-id': {
    clientId: { kind: 'text', text: 'rackstrap-c1:data0:vs1:1', typeByte: true }, vendorClass: 'rackstrap', maxSize: 576,
    requests: [1, 3, 6, 12, 15, 28, 42],
  },
  'udhcpc-default': { clientId: { kind: 'ethernet', mac: '52:54:00:12:34:56' }, vendorClass: 'udhcp 1.35.0', maxSize: 576, requests: [1, 3, 6, 12, 15, 28, 42] },
  'dhcpcd-text-id': {
    clientId: { kind: 'text', text: 'rackstrap-c1:san0:mysql-primary', typeByte: true }, maxSize: 1472,
    requests: [1, 121, 3, 6, 12, 15, 26, 28, 33, 51, 54, 58, 59, 119],
  },
  'dhcpcd-default': { clientId: undefined, maxSize: 1472, requests: [1, 121, 3, 6, 12, 15, 26, 28, 33, 51, 54, 58, 59, 119] },
};

for (const name of FIXTURE_NAMES) {
  t.test(name, async (t) => {
    const raw = loadHex(name);
    const m = decodeMessage(raw);
    const client = name.replace(/-(discover|request)$/, '');
    const want = expected[client]!;
    const isRequest = name.endsWith('-request');

    t.equal(m.op, OP.BOOTREQUEST);
    t.equal(m.htype, 1);
    t.equal(hardwareAddress(m), '52:54:00:12:34:56');
    t.equal(m.ciaddr, '0.0.0.0');
    t.equal(m.giaddr, '0.0.0.0');
    t.notOk(isBroadcast(m), 'these clients read unicast-addressed replies from raw sockets');
    t.equal(messageType(m), isRequest ? MESSAGE_TYPE.REQUEST : MESSAGE_TYPE.DISCOVER);
    t.same(m.options.get(OPTION.PARAMETER_REQUEST_LIST), want.requests, 'parameter request list');
    t.equal(m.options.get(OPTION.VENDOR_CLASS), want.vendorClass, 'vendor class');
    t.equal(m.options.get(OPTION.HOSTNAME), want.hostname, 'hostname');
    t.equal(m.options.get(OPTION.MAX_MESSAGE_SIZE), want.maxSize, 'option 57');
    t.equal(maxMessageSize(m), want.maxSize ?? 576);
    if (isRequest) {
      t.equal(m.options.get(OPTION.REQUESTED_ADDRESS), '192.0.2.50', 'requests the offered address');
      t.equal(m.options.get(OPTION.SERVER_ID), '192.0.2.1', 'names the server it selected');
    } else {
      t.notOk(m.options.has(OPTION.SERVER_ID));
    }
    const cid = clientIdOf(m);
    if (client === 'dhcpcd-default') {
      t.equal(cid?.kind, 'other');
      t.equal(m.options.get(OPTION.CLIENT_ID)![0], 255, 'RFC 4361 type 255 (IAID + DUID)');
    } else {
      t.same(cid, want.clientId, 'client identifier');
    }
    t.ok(encodeMessage(m, { maxSize: 1500 }).equals(raw), 're-encodes to the bytes the client sent');
    roundTrip(t, m, { maxSize: 1500 });
  });
}

t.test('dhcpcd sends rapid commit (80) empty and a forcerenew nonce capability (145): unknown options kept raw, in order', async (t) => {
  const m = decodeMessage(loadHex('dhcpcd-text-id-discover'));
  t.same(m.options.codes(), [53, 55, 57, 61, 80, 145]);
  t.same(m.options.get(80), Buffer.alloc(0));
  t.same(m.options.get(145), Buffer.of(1));
});
