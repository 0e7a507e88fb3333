import t from 'tap';
import { ClusterDescription } from '../../src/options/schema.js';
import { normalizeDescription } from '../../src/options/normalize.js';
import { formatPath } from '../../src/options/rules/context.js';

// A small description in JS form, parsed by the schema so defaults are filled in.
function describe(filer: Record<string, unknown>, templates: Record<string, unknown> = {}) {
  return ClusterDescription.parse({
    cluster: { name: 'lab', id: '00:07:34:04:12:0e', generation: 1 },
    scope: { subnets: [{ prefix: '10.1.1.0/24' }] },
    templates,
    filers: { F1: { baseMac: '00:07:34:10:00:00', nics: { ETH0: '00:07:34:10:00:01', eth1: '00:07:34:10:00:02' }, addresses: { MGMT0: '10.1.1.2' }, ...filer } },
  });
}

const TEMPLATE = {
  base: {
    bonds: { Bond0: { mode: 'active-backup', members: ['ETH0', 'eth1'], primary: 'Eth0' } },
    vlans: ['bond0.10', 'BOND0.20'],
    aliases: { mgmt0: 'bond0', DATA0: 'bond0.10', data1: 'bond0.20' },
    mtu: { bond0: 9000 },
  },
};

t.test('templates and patches resolve into one lower-cased stack per filer', async (t) => {
  const n = normalizeDescription(
    describe(
      {
        template: 'base',
        stack: {
          bonds: { BOND0: { mode: '802.3ad', members: ['eth0', 'eth1'] } }, // replaces the template's
          vlans: ['-bond0.20', 'bond0.30'],
          aliases: { data1: null, data2: 'bond0.30' },
          mtu: { bond0: null },
        },
      },
      TEMPLATE,
    ),
  );
  t.same(n.findings, []);
  const f = n.filers.get('F1')!;
  t.same(f.stack, {
    bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] } },
    failovers: {},
    vlans: ['bond0.10', 'bond0.30'],
    aliases: { mgmt0: 'bond0', data0: 'bond0.10', data2: 'bond0.30' },
    mtu: {},
  });
  t.same(f.nics, { eth0: '00:07:34:10:00:01', eth1: '00:07:34:10:00:02' });
  t.same(f.addresses, { mgmt0: '10.1.1.2' });
  t.equal(formatPath(f.origins.bonds.bond0!), 'filers.F1.stack.bonds.bond0', 'a replaced entry comes from the patch');
  t.equal(formatPath(f.origins.aliases.mgmt0!), 'templates.base.aliases.mgmt0', 'an inherited one from the template');
  t.equal(formatPath(f.origins.vlans['bond0.10']!), 'templates.base.vlans[0]');
  t.equal(formatPath(f.origins.vlans['bond0.30']!), 'filers.F1.stack.vlans[1]');
  t.same(n.description.templates.base?.bonds.bond0?.members, ['eth0', 'eth1'], 'templates are lower-cased too');
  t.equal(n.description.templates.base?.bonds.bond0?.primary, 'eth0');
});

t.test('removing what is not there is an error, with or without a template', async (t) => {
  const withTemplate = normalizeDescription(describe({ template: 'base', stack: { aliases: { san0: null }, vlans: ['-eth0.5'], bonds: { bond7: null } } }, TEMPLATE));
  t.same(
    withTemplate.findings.map((f) => [formatPath(f.path), f.rule]),
    [
      ['filers.F1.stack.bonds.bond7', 'nothing to remove: template "base" has no bond bond7'],
      ['filers.F1.stack.aliases.san0', 'nothing to remove: template "base" has no alias san0'],
      ['filers.F1.stack.vlans[0]', 'nothing to remove: template "base" has no VLAN eth0.5'],
    ],
  );
  const none = normalizeDescription(describe({ stack: { aliases: { mgmt0: null } } }));
  t.match(none.findings[0]?.rule, /nothing to remove: this filer \(it uses no template\) has no alias mgmt0/);
});

t.test('unknown template, two spellings of one name, a VLAN listed twice', async (t) => {
  const n = normalizeDescription(
    describe({ template: 'bsae', nics: { eth0: '00:07:34:10:00:01', ETH0: '00:07:34:10:00:03' } }, { other: { vlans: ['eth0.5', 'ETH0.5'] } }),
  );
  const got = n.findings.map((f) => `${formatPath(f.path)}: ${f.rule}`);
  t.match(got, [/templates\.other\.vlans\[1\]: VLAN eth0\.5 is listed twice/, /filers\.F1\.nics\.ETH0: "ETH0" and "eth0" are the same NIC/, /filers\.F1\.template: no template named "bsae" \(templates: other\)/]);
  t.same(n.unresolved, ['F1']);
});
