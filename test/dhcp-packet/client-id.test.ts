import t from 'tap';
import { clientIdOf, clientIdText, createMessage, formatClientId, parseClientId, textClientId, MESSAGE_TYPE, OP, OPTION } from '../../src/dhcp-packet/index.js';

const ID = 'rackstrap-c1:mgmt0:Filer1';

t.test('text with and without a type byte gives the same text', async (t) => {
  const raw = Buffer.from(ID);
  const typed = Buffer.concat([Buffer.of(0), raw]);
  t.same(parseClientId(raw), { kind: 'text', text: ID, typeByte: false });
  t.same(parseClientId(typed), { kind: 'text', text: ID, typeByte: true });
  t.equal(clientIdText(raw), ID);
  t.equal(clientIdText(typed), ID);
  t.equal(formatClientId(typed), ID);
});

t.test('type 1 + 6 bytes is an Ethernet address, not text', async (t) => {
  const raw = Buffer.from('01525400123456', 'hex');
  t.same(parseClientId(raw), { kind: 'ethernet', mac: '52:54:00:12:34:56' });
  t.equal(clientIdText(raw), undefined);
  t.equal(formatClientId(raw), '01:52:54:00:12:34:56');
});

t.test('binary identifiers are kept whole, shown as colon hex', async (t) => {
  const duid = Buffer.from('ff00123456000100013295', 'hex');
  t.same(parseClientId(duid), { kind: 'other', type: 255, hex: 'ff:00:12:34:56:00:01:00:01:32:95' });
  t.equal(clientIdText(duid), undefined);
  // A zero byte inside is not an end of string: the whole identifier counts.
  const nul = Buffer.from('abc\0def');
  t.equal(clientIdText(nul), undefined, 'text cut at a zero byte is not the identifier');
  t.equal(formatClientId(nul), '61:62:63:00:64:65:66');
  t.same(parseClientId(Buffer.of(0)), { kind: 'other', type: 0, hex: '00' }, 'a lone type byte');
  t.same(parseClientId(Buffer.alloc(0)), { kind: 'other', type: -1, hex: '' }, 'empty');
  t.same(parseClientId(Buffer.from('01525400', 'hex')), { kind: 'other', type: 1, hex: '01:52:54:00' }, 'type 1 with a short address');
});

t.test('textClientId builds both forms and refuses what is not printable ASCII', async (t) => {
  t.same(textClientId(ID), Buffer.from(ID));
  t.same(textClientId(ID, { typeByte: true }), Buffer.concat([Buffer.of(0), Buffer.from(ID)]));
  for (const bad of ['', 'a\tb', 'caf\u00e9', 'fil\u0161']) {
    t.throws(() => textClientId(bad), { code: 'RS_ENCODE', reason: 'bad-value' }, JSON.stringify(bad));
  }
});

t.test('clientIdOf reads option 61 of a message', async (t) => {
  const m = createMessage({ op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.DISCOVER });
  t.equal(clientIdOf(m), undefined);
  m.options.set(OPTION.CLIENT_ID, textClientId(ID, { typeByte: true }));
  t.same(clientIdOf(m), { kind: 'text', text: ID, typeByte: true });
});
