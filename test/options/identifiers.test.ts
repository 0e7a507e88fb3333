import t from 'tap';
import fc from 'fast-check';
import {
  filerIdentifier,
  formatIdentifier,
  mysqlIdentifier,
  parseIdentifier,
  topologyKey,
  vserverIdentifier,
  type Identifier,
} from '../../src/options/identifiers.js';
import { MYSQL_ROLE } from '../../src/options/schema.js';

const CID = '00:07:34:04:12:0E';

t.test("the seed's identifiers, built (§5.2.6.3, §5.11)", async (t) => {
  t.equal(vserverIdentifier(CID, 'data0', 'VsvrA', 0), '00:07:34:04:12:0E:data0:VsvrA:0');
  t.equal(vserverIdentifier(CID, 'DATA2', 'VsvrC', 0), '00:07:34:04:12:0E:data2:VsvrC:0', 'alias lower-cased');
  t.equal(filerIdentifier(CID.toLowerCase(), 'mgmt0', 'Filer1'), '00:07:34:04:12:0E:mgmt0:Filer1', 'CID upper-cased');
  t.equal(filerIdentifier(CID, 'san0', 'Filer2'), '00:07:34:04:12:0E:san0:Filer2');
  t.equal(mysqlIdentifier(CID, 'mgmt1', 'MySQLDataNode2'), '00:07:34:04:12:0E:mgmt1:MySQLDataNode2');
  t.equal(topologyKey(CID, '00:07:34:10:00:0a'), '00:07:34:04:12:0E:00:07:34:10:00:0A');
  t.equal(vserverIdentifier(CID, 'data0.5', 'VsvrA', 12), '00:07:34:04:12:0E:data0.5:VsvrA:12', 'VLAN of an alias');
});

t.test('parsing tells the kinds apart', async (t) => {
  t.same(parseIdentifier('00:07:34:04:12:0E:data0:VsvrA:1'), { ok: true, value: { kind: 'vserver', clusterId: CID, alias: 'data0', vserver: 'VsvrA', instance: 1 } });
  t.same(parseIdentifier('00:07:34:04:12:0E:mgmt0:Filer1'), { ok: true, value: { kind: 'filer', clusterId: CID, alias: 'mgmt0', filer: 'Filer1' } });
  t.same(parseIdentifier('00:07:34:04:12:0E:mgmt0:MySQLMgmtNode'), { ok: true, value: { kind: 'mysql', clusterId: CID, alias: 'mgmt0', role: 'MySQLMgmtNode' } });
  t.same(parseIdentifier('00:07:34:04:12:0E:00:07:34:10:00:00'), { ok: true, value: { kind: 'topology', clusterId: CID, baseMac: '00:07:34:10:00:00' } });
});

t.test('bad identifiers are rejected with the reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['00:07:34:04:12:0e:mgmt0:Filer1', /cluster ID .* upper-case/],
    ['00:07:34:04:12:0E:MGMT0:Filer1', /alias "MGMT0" must be lower-case/],
    ['00:07:34:04:12:0E:data0:Filer1', /filer identifiers use mgmt# or san#, not data0/],
    ['00:07:34:04:12:0E:mgmt0:VsvrA:0', /virtual server identifiers use data#/],
    ['00:07:34:04:12:0E:data0:MySQLMgmtNode', /MySQL identifiers use mgmt#/],
    ['00:07:34:04:12:0E:data0:VsvrA:01', /instance "01"/],
    ['00:07:34:04:12:0E:data0:VsvrA:10000', /instance "10000"/],
    ['00:07:34:04:12:0E:eth0:Filer1', /"eth0" is not an alias/],
    ['00:07:34:04:12:0E:mgmt0:1Filer', /not a filer name/],
    ['00:07:34:04:12:0E:mgmt0', /got 1 part$/],
    ['00:07:34:04:12:0E', /must start with the cluster ID/],
    ['00:07:34:04:12:XX:mgmt0:Filer1', /cluster ID "00:07:34:04:12:XX" is not a MAC/],
    ['00:07:34:04:12:0E:00:07:34:10:00:0a', /base MAC .* upper-case/],
    ['00:07:34:04:12:0E:a:b:c:d', /got 4 parts/],
    ['00:07:34:04:12:0E:mgmt0:Filer 1', /printable ASCII/],
    [`00:07:34:04:12:0E:mgmt0:${'F'.repeat(300)}`, /at most 255/],
    ['00:07:34:04:12:0E:mgmt0.4095:Filer1', /outside 1-4094/],
  ];
  for (const [text, re] of cases) {
    const r = parseIdentifier(text);
    t.notOk(r.ok, `refused: ${text.slice(0, 60)}`);
    if (!r.ok) t.match(r.reason, re, text.slice(0, 60));
  }
  t.throws(() => filerIdentifier(CID, 'data0', 'Filer1'), { code: 'RS_IDENTIFIER' });
  t.throws(() => mysqlIdentifier(CID, 'mgmt0', 'MySQLBoss'), { code: 'RS_IDENTIFIER' });
});

// ---- properties --------------------------------------------------------------------------------

const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':'));
const withVlan = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined })).map(([a, v]) => (v === undefined ? a : `${a}.${v}`));
const aliasOf = (roles: string[]) => fc.tuple(fc.constantFrom(...roles), fc.integer({ min: 0, max: 999 })).map(([r, n]) => `${r}${n}`);
const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,30}$/).filter((n) => !MYSQL_ROLE.test(n));
const role = fc.oneof(fc.constant('MySQLMgmtNode'), fc.integer({ min: 1, max: 99 }).map((n) => `MySQLDataNode${n}`), fc.integer({ min: 1, max: 99 }).map((n) => `MySQLAppNode${n}`));

const identifier: fc.Arbitrary<Identifier> = fc.oneof(
  fc.record({ kind: fc.constant('filer' as const), clusterId: mac, alias: withVlan(aliasOf(['mgmt', 'san'])), filer: name }),
  fc.record({ kind: fc.constant('vserver' as const), clusterId: mac, alias: withVlan(aliasOf(['data'])), vserver: name, instance: fc.integer({ min: 0, max: 9999 }) }),
  fc.record({ kind: fc.constant('mysql' as const), clusterId: mac, alias: aliasOf(['mgmt']), role }),
  fc.record({ kind: fc.constant('topology' as const), clusterId: mac, baseMac: mac }),
);

t.test('parse(format(id)) == id for every valid identifier', async (t) => {
  fc.assert(
    fc.property(identifier, (id) => {
      const r = parseIdentifier(formatIdentifier(id));
      return r.ok && JSON.stringify(r.value) === JSON.stringify(id);
    }),
    { numRuns: 2000 },
  );
  t.pass('2000 identifiers round-tripped');
});

t.test('whatever parses is in its one canonical spelling: format(parse(s)) == s', async (t) => {
  // Start from valid identifiers and mutate them, so the parser sees near-misses, not only noise.
  const mutated = fc.tuple(identifier, fc.nat(), fc.constantFrom('', ':', 'a', 'A', '0', '.', '-', ' ', 'x:y')).map(([id, at, ch]) => {
    const s = formatIdentifier(id);
    const i = at % (s.length + 1);
    return s.slice(0, i) + ch + s.slice(i + (ch === '' ? 1 : 0));
  });
  fc.assert(
    fc.property(fc.oneof(mutated, fc.string()), (s) => {
      const r = parseIdentifier(s);
      return !r.ok ? r.reason.length > 0 : formatIdentifier(r.value) === s;
    }),
    { numRuns: 3000 },
  );
  t.pass('3000 near-miss strings: refused with a reason, or canonical');
});
