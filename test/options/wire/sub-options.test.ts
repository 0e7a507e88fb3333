// Framing (RFC 2132 §8.4 sub-options in option 43, RFC 3396 instances) and the dhclient script
// environment, byte by byte.
import t from 'tap';
import {
  DecodeError,
} from '../../../src/errors.js';
import {
  joinOption43,
  option43FromDhclientEnv,
  parseSubOptions,
  subOptionsFromDhclientEnv,
  subOptionsToBytes,
  unescapeDhclientText,
  WireEncodeError,
  ObjectTooLongError,
} from '../../../src/options/wire/index.js';

t.test('writes code, length, text; reads back in wire order', async (t) => {
  const objs = [
    { code: 7, text: 'mgmt0 on=fail0' },
    { code: 1, text: 'x' },
  ];
  const bytes = subOptionsToBytes(objs);
  t.equal(bytes.toString('hex'), '070e' + Buffer.from('mgmt0 on=fail0').toString('hex') + '010178');
  t.same(parseSubOptions(bytes), objs, 'order as on the wire; the decoder sorts by code itself');
});

t.test('pads are skipped anywhere, an end byte stops reading', async (t) => {
  const payload = Buffer.from('0000010161' + '00' + '030162' + 'ff' + '0401' + '63', 'hex');
  t.same(parseSubOptions(payload), [
    { code: 1, text: 'a' },
    { code: 3, text: 'b' },
  ]);
});

t.test('instances are joined before parsing: a sub-option may straddle them (dhcpd)', async (t) => {
  const payload = subOptionsToBytes([
    { code: 1, text: 'rackstrap' },
    { code: 3, text: 'eth0 mtu=9000' },
  ]);
  for (let cut = 0; cut <= payload.length; cut++) {
    const parts = [payload.subarray(0, cut), payload.subarray(cut)];
    t.same(parseSubOptions(parts), parseSubOptions(payload), `cut at ${cut}`);
  }
  t.same(joinOption43([Buffer.from('01'), Buffer.from('02')]), Buffer.from('0102'));
});

t.test('framing errors carry the byte offset', async (t) => {
  t.throws(() => parseSubOptions(Buffer.from('0101610300', 'hex').subarray(0, 4)), { code: 'RS_WIRE_TRUNCATED', offset: 3 });
  t.throws(() => parseSubOptions(Buffer.from('01016103056162', 'hex')), { code: 'RS_WIRE_LENGTH', offset: 3 });
  t.throws(() => parseSubOptions(Buffer.concat([Buffer.from([3, 255]), Buffer.alloc(255, 0x61)])), { code: 'RS_WIRE_OVERLONG', offset: 0 });
  t.throws(() => parseSubOptions(Buffer.from('010161010162', 'hex')), { code: 'RS_WIRE_DUPLICATE_CODE', offset: 3 });
  t.same(parseSubOptions(Buffer.concat([Buffer.from([3, 253]), Buffer.alloc(253, 0x61)]))[0]!.text.length, 253, '253 is allowed');
  const e = (() => {
    try {
      parseSubOptions(Buffer.from('01', 'hex'));
    } catch (err) {
      return err;
    }
  })();
  t.ok(e instanceof DecodeError, 'a DecodeError subclass');
});

t.test('the writer refuses what no server carries intact', async (t) => {
  t.throws(() => subOptionsToBytes([{ code: 3, text: 'a'.repeat(254) }]), ObjectTooLongError);
  t.throws(() => subOptionsToBytes([{ code: 0, text: 'a' }]), { code: 'RS_WIRE_UNREPRESENTABLE' });
  t.throws(() => subOptionsToBytes([{ code: 255, text: 'a' }]), { code: 'RS_WIRE_UNREPRESENTABLE' });
  t.throws(() => subOptionsToBytes([{ code: 3, text: 'a' }, { code: 3, text: 'b' }]), WireEncodeError);
  t.throws(() => subOptionsToBytes([{ code: 3, text: 'é€' }]), { code: 'RS_WIRE_UNREPRESENTABLE' });
});

t.test('dhclient text escaping is reversed', async (t) => {
  t.equal(unescapeDhclientText('plain text=1'), 'plain text=1');
  t.equal(unescapeDhclientText('a\\"b\\\\c\\$d\\`e\\\'f'), 'a"b\\c$d`e\'f');
  t.equal(unescapeDhclientText('x\\054y\\001'), 'x,y\u0001', 'octal escapes are bytes');
  t.throws(() => unescapeDhclientText('bad\\'), DecodeError);
});

t.test('sub-options from a dhclient script environment', async (t) => {
  const env = {
    new_rack_strap_o1: 'rackstrap/1.0 gen=1 count=3 filer=F',
    new_rack_strap_o11: 'vs V table=1 addr=data0:0',
    new_rack_strap_unknown_12: 'eth0 mtu=1500',
    new_rack_strap_unknown_13: '65:74:68:2c:01',
    old_rack_strap_o1: 'stale',
    new_rack_strap_other: 'ignored',
    new_rackstrap_o2: 'another space',
    reason: 'BOUND',
  };
  t.same(subOptionsFromDhclientEnv(env, 'rack-strap'), [
    { code: 1, text: 'rackstrap/1.0 gen=1 count=3 filer=F' },
    { code: 11, text: 'vs V table=1 addr=data0:0' },
    { code: 12, text: 'eth0 mtu=1500' },
    { code: 13, text: 'eth,\u0001' },
  ]);
  t.same(subOptionsFromDhclientEnv(env, 'rack-strap', 'old_'), [{ code: 1, text: 'stale' }]);
});

t.test('raw option 43 from the script environment (colon-hex without zero padding)', async (t) => {
  t.same(option43FromDhclientEnv({ new_vendor_encapsulated_options: '1:2:61:ff' }), Buffer.from('010261ff', 'hex'));
  t.equal(option43FromDhclientEnv({}), undefined);
  t.throws(() => option43FromDhclientEnv({ new_vendor_encapsulated_options: 'zz' }), DecodeError);
});
