// The build order of a plan against the kernel's rules for stacked links, for stacks of any depth.
// The rules (measured in user-mode Linux; shared notes test-environment.md) are modelled here, in
// the test, independently of the plan:
//   - a VLAN or macvlan cannot be opened while its lower device is down ("Network is down");
//   - a device cannot be enslaved while it is up ("Device can not be enslaved while up"), and
//     enslaving opens it (so its own lower device must be up);
//   - a lower device going up opens the VLANs on it; going down closes them.
// Every plan from a fresh filer must run through the model without an error and end with every
// link up and every member in its bond. The lab proves the same shapes on a real kernel.
import t from 'tap';
import { buildDesiredState, type DesiredInput } from '../../src/net/desired.js';
import { parseObservation, type ObservedState } from '../../src/net/observe.js';
import { plan, type Step } from '../../src/net/plan.js';

interface Dev {
  kind: 'ethernet' | 'bond' | 'vlan' | 'macvlan';
  lower?: string;
  master?: string;
  up: boolean;
}

/** Runs the link steps through the kernel model; the first rule broken, or the final devices. */
function runKernel(steps: Step[], nics: string[]): { error: string | undefined; devs: Map<string, Dev> } {
  // The NICs start up, as on the fresh filer the plan is made for.
  const devs = new Map<string, Dev>(nics.map((n) => [n, { kind: 'ethernet', up: true }]));
  const dev = (n: string) => {
    const d = devs.get(n);
    if (d === undefined) throw new Error(`Cannot find device "${n}"`);
    return d;
  };
  const open = (n: string) => {
    const d = dev(n);
    if ((d.kind === 'vlan' || d.kind === 'macvlan') && !dev(d.lower!).up) throw new Error(`${n}: Network is down (lower ${d.lower} is down)`);
    d.up = true;
    for (const [, v] of devs) if (v.kind === 'vlan' && v.lower === n && !v.up) v.up = true;
  };
  const close = (n: string) => {
    dev(n).up = false;
    for (const [name, v] of devs) if (v.kind === 'vlan' && v.lower === n && v.up) close(name);
  };
  for (const s of steps) {
    const a = s.argv;
    if (a[0] !== 'ip' || a[1] !== 'link') continue;
    try {
      if (a[2] === 'add') {
        const type = a[a.indexOf('type') + 1]!;
        if (type === 'bond') devs.set(a[3]!, { kind: 'bond', up: false });
        else devs.set(a[a.indexOf('name') + 1]!, { kind: type === 'vlan' ? 'vlan' : 'macvlan', lower: a[a.indexOf('link', 3) + 1]!, up: false });
      } else if (a[2] === 'set') {
        const name = a[4]!;
        const what = a[5];
        if (what === 'up') open(name);
        else if (what === 'down') close(name);
        else if (what === 'master') {
          if (dev(name).up) throw new Error(`${name}: Device can not be enslaved while up`);
          dev(a[6]!);
          dev(name).master = a[6]!;
          open(name);
        }
      }
    } catch (e) {
      return { error: `${a.join(' ')}: ${(e as Error).message}`, devs };
    }
  }
  return { error: undefined, devs };
}

/** A freshly booted filer: its NICs, up (the agent opens them for the topology request). */
function freshFiler(nics: string[]): ObservedState {
  return parseObservation({
    link: nics.map((n, i) => ({ ifindex: i + 2, ifname: n, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether', address: `02:00:00:00:00:0${i}` })),
    addr: [],
    route: [],
    rule: [],
    iptables: { ok: false, reason: 'not read' },
  });
}

type StackIn = DesiredInput['topology']['stack'];

const SHAPES: Array<{ name: string; nics: number; stack: StackIn }> = [
  {
    name: 'failover group over VLANs of bonds (fail0 over bond0.10 and bond1.10)',
    nics: 4,
    stack: {
      bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] }, bond1: { mode: '802.3ad', members: ['eth2', 'eth3'] } },
      failovers: { fail0: { members: ['bond0.10', 'bond1.10'] } },
      vlans: ['bond0.10', 'bond1.10', 'fail0.5'],
      aliases: { data0: 'fail0', data1: 'fail0.5' },
    },
  },
  {
    name: 'failover over VLANs of NICs, a VLAN on it, an alias on a VLAN of that alias',
    nics: 2,
    stack: {
      failovers: { fail0: { members: ['eth0.7', 'eth1.7'] } },
      vlans: ['eth0.7', 'eth1.7', 'fail0.5', 'data0.9'],
      aliases: { data0: 'fail0.5', mgmt0: 'eth0' },
    },
  },
  {
    name: 'failover over bonds, VLAN on the group',
    nics: 4,
    stack: {
      bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] }, bond1: { mode: 'balance-xor', members: ['eth2', 'eth3'] } },
      failovers: { fail0: { members: ['bond0', 'bond1'] } },
      vlans: ['fail0.5'],
      aliases: { data0: 'fail0.5', mgmt0: 'fail0' },
    },
  },
  {
    name: 'failover over VLANs of failovers over VLANs of bonds (depth 6)',
    nics: 8,
    stack: {
      bonds: {
        bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] },
        bond1: { mode: '802.3ad', members: ['eth2', 'eth3'] },
        bond2: { mode: '802.3ad', members: ['eth4', 'eth5'] },
        bond3: { mode: '802.3ad', members: ['eth6', 'eth7'] },
      },
      failovers: { fail0: { members: ['bond0.10', 'bond1.10'] }, fail1: { members: ['bond2.10', 'bond3.10'] }, fail2: { members: ['fail0.20', 'fail1.20'] } },
      vlans: ['bond0.10', 'bond1.10', 'bond2.10', 'bond3.10', 'fail0.20', 'fail1.20', 'fail2.30'],
      aliases: { data0: 'fail2.30', san0: 'fail2' },
    },
  },
];

for (const shape of SHAPES) {
  t.test(`fresh filer, ${shape.name}: every step allowed by the kernel's rules`, async (t) => {
    const nics = Array.from({ length: shape.nics }, (_, i) => `eth${i}`);
    const desired = buildDesiredState({ topology: { filer: 'F', generation: 1, stack: shape.stack }, nics: {} });
    const p = plan(desired, freshFiler(nics), undefined, { scope: 'links' });
    const run = runKernel(p.steps, nics);
    t.equal(run.error, undefined, 'no step breaks a kernel rule');
    for (const l of desired.links) {
      const d = run.devs.get(l.ifname);
      t.ok(d?.up, `${l.ifname} is up at the end`);
      if (l.kind === 'bond') for (const m of l.members) t.equal(run.devs.get(m)?.master, l.ifname, `${m} is in ${l.ifname}`);
    }
  });
}

t.test('fail0 over bond0.10: bond0 is up before bond0.10 is created, and bond0.10 is enslaved while still down', async (t) => {
  const shape = SHAPES[0]!;
  const nics = ['eth0', 'eth1', 'eth2', 'eth3'];
  const desired = buildDesiredState({ topology: { filer: 'F', generation: 1, stack: shape.stack }, nics: {} });
  // Build it, then release bond0.10 from fail0 as if an admin had: the re-plan must put it back.
  const first = plan(desired, freshFiler(nics), undefined, { scope: 'links' });
  const built = runKernel(first.steps, nics);
  t.equal(built.error, undefined);
  const enslave = first.steps.findIndex((s) => s.argv.join(' ') === 'ip link set dev bond0.10 master fail0');
  const bondUp = first.steps.findIndex((s) => s.argv.join(' ') === 'ip link set dev bond0 up');
  const vlanAdd = first.steps.findIndex((s) => s.kind === 'link-add' && s.target === 'bond0.10');
  t.ok(bondUp >= 0 && bondUp < vlanAdd && vlanAdd < enslave, 'bond0 up, then bond0.10 created, then enslaved');
});
