// Real clients against `rackstrap serve` (a child process) in network namespaces: ISC dhclient,
// busybox udhcpc and dhcpcd each get their reserved address by text client identifier, with and
// without a type byte; dhclient's script sees every topology object of the filer, as the wire
// encoder made them; a pool lease and a reservation survive a kill -9 of the server and are
// renewed; DECLINE (of a reserved address: a release, no quarantine) and RELEASE land in the lease log.
//
//   sw: br0 ── srv (srv0 10.1.1.1/24, rackstrap serve)
//           ├─ one namespace per client (eth0, no address until its script sets one)
//           └─ squat (eth0 10.1.1.12/24: another host already using a reserved address)

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseLine } from '../../src/dhcp-server/lease-line.js';
import { addressFactsByFiler, topologyFor } from '../../src/options/resolve.js';
import { decodeTopology, encodeTopology, option43FromDhclientEnv, subOptionsFromDhclientEnv, subOptionsToBytes, type SubOption } from '../../src/options/wire/index.js';
import { makeLab, type Lab } from '../helpers/netns.js';
import { KEY, exampleCluster, exampleText, id } from './helpers/fixtures.js';
import { ServeProcess, waitForFile } from './helpers/serve.js';

const hex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');
const colonHexText = (text: string): string => [...Buffer.from(text, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(':');

// dhclient runs its script with an environment of its own making: the events file is written in.
const dhclientScript = (events: string): string => `#!/bin/sh
# Records each event; configures the address like dhclient-script would (without touching resolv.conf).
EVENTS='${events}'
# The environment first: a test that sees the event line reads this file next.
env | grep '^new_' > "$EVENTS.$reason"
echo "$reason ip=$new_ip_address server=$new_dhcp_server_identifier" >> "$EVENTS"
case "$reason" in
  PREINIT) ip link set "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;;
esac
exit 0
`;
const UDHCPC_SCRIPT = `#!/bin/sh
echo "$1 ip=$ip server=$serverid lease=$lease" >> "$EVENTS"
case "$1" in
  deconfig) ip addr flush dev "$interface" ;;
  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
esac
exit 0
`;
const dhcpcdScript = (events: string): string => `#!/bin/sh
EVENTS='${events}'
echo "$reason ip=$new_ip_address server=$new_dhcp_server_identifier" >> "$EVENTS"
exit 0
`;

/** dhclient.conf declaring rackstrap's option space (shared/notes/dhcp-servers.md, "dhclient as a reference client"). */
function dhclientConf(lines: string[], topology = false): string {
  const space = topology
    ? ['option space rackstrap code width 1 length width 1;', ...Array.from({ length: 40 }, (_, i) => `option rackstrap.o${i + 1} code ${i + 1} = text;`)]
    : [];
  const vendor = topology ? ['vendor option space rackstrap;', 'send vendor-class-identifier "rackstrap";'] : [];
  return [...space, ...lines, ...vendor, 'send dhcp-max-message-size 1500;',
    `request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, ntp-servers${topology ? ', vendor-encapsulated-options' : ''};`, ''].join('\n');
}

interface Env {
  lab: Lab;
  dir: string;
  srv: string;
  sw: string;
  config: string;
  leases: string;
}

let macs = 0;
async function client(e: Env, name: string): Promise<{ ns: string; events: string }> {
  const ns = await e.lab.ns(name);
  await e.lab.link(ns, 'eth0', e.sw, 'br0', { mac: `02:00:00:00:7e:${(++macs).toString(16).padStart(2, '0')}` });
  return { ns, events: join(e.dir, `${name}.events`) };
}

function dhclient(e: Env, c: { ns: string; events: string }, conf: string): ReturnType<Lab['spawn']> {
  const cf = `${c.events}.conf`;
  writeFileSync(cf, conf);
  const script = `${c.events}.sh`;
  writeFileSync(script, dhclientScript(c.events));
  chmodSync(script, 0o755);
  return e.lab.spawn(c.ns, 'dhclient', ['-d', '-4', '-cf', cf, '-lf', `${c.events}.leases`, '-pf', `${c.events}.pid`, '-sf', script, 'eth0']);
}

function udhcpc(e: Env, c: { ns: string; events: string }, args: string[]): ReturnType<Lab['spawn']> {
  return e.lab.spawn(c.ns, 'udhcpc', ['-f', '-i', 'eth0', '-s', join(e.dir, 'udhcpc.sh'), '-p', `${c.events}.pid`, '-t', '20', '-T', '1', ...args], { env: { EVENTS: c.events } });
}

function dhcpcd(e: Env, c: { ns: string; events: string }, clientId: string): ReturnType<Lab['spawn']> {
  // Private state folders: ip netns exec gives the command its own mount namespace.
  const setup = 'mount -t tmpfs none /var/lib/dhcpcd && mkdir -p /run/dhcpcd && mount -t tmpfs none /run/dhcpcd && exec "$@"';
  // dhcpcd, like dhclient, gives its script an environment of its own: the events file is written in.
  const script = `${c.events}.sh`;
  writeFileSync(script, dhcpcdScript(c.events));
  chmodSync(script, 0o755);
  return e.lab.spawn(c.ns, 'sh', ['-c', setup, 'sh', 'dhcpcd', '-f', '/dev/null', '-B', '-4', '-1', '-A', '-L', '-t', '20', '-c', script, '-I', clientId, 'eth0']);
}

function leaseRecords(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    const p = parseLine(l);
    return p.ok ? [p.record as unknown as Record<string, unknown>] : [];
  });
}

t.test('real clients against rackstrap serve', async (t) => {
  const lab = await makeLab(t, { prefix: 'rssrv' });
  const dir = t.testdir();
  for (const [name, text] of [['udhcpc.sh', UDHCPC_SCRIPT]] as const) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o755);
  }
  writeFileSync(join(dir, 'cluster.key'), KEY, { mode: 0o600 });
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.110' } }, keyFile: 'cluster.key' }));
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br0');
  const srv = await lab.ns('srv');
  await lab.link(srv, 'srv0', sw, 'br0');
  await lab.ip(srv, 'addr', 'add', '10.1.1.1/24', 'dev', 'srv0');
  const e: Env = { lab, dir, srv, sw, config, leases: join(dir, 'leases.log') };
  const serveArgs = { config, interfaces: ['srv0'], leaseFile: e.leases };
  let server = await ServeProcess.ready(lab, srv, serveArgs);
  const loaded = exampleCluster({ keyFile: 'cluster.key' });

  // The six address clients run at once, each in its own namespace.
  const want = {
    dhText: { id: id('mgmt0:Filer1'), ip: '10.1.1.2', form: 'text' },
    dhType: { id: id('mgmt1:Filer1'), ip: '10.1.1.3', form: 'type0+text' },
    udText: { id: id('mgmt0:Filer2'), ip: '10.1.1.4', form: 'text' },
    udType: { id: id('mgmt1:Filer2'), ip: '10.1.1.5', form: 'type0+text' },
    dcType: { id: id('mgmt0:MySQLMgmtNode'), ip: '10.1.1.10', form: 'type0+text' },
    dcText: { id: id('mgmt1:MySQLMgmtNode'), ip: '10.1.1.11', form: 'text' },
  } as const;
  const c = {
    dhText: await client(e, 'dhtext'), dhType: await client(e, 'dhtype'), udText: await client(e, 'udtext'),
    udType: await client(e, 'udtype'), dcType: await client(e, 'dctype'), dcText: await client(e, 'dctext'),
  };

  let dhTextChild: ReturnType<Lab['spawn']> | undefined;
  await t.test('each client gets its reserved address by text identifier, with and without a type byte', async (t) => {
    dhTextChild = dhclient(e, c.dhText, dhclientConf([`send dhcp-client-identifier "${want.dhText.id}";`]));
    dhclient(e, c.dhType, dhclientConf([`send dhcp-client-identifier 00:${colonHexText(want.dhType.id)};`]));
    udhcpc(e, c.udText, ['-x', `0x3d:${hex(want.udText.id)}`]);
    udhcpc(e, c.udType, ['-x', `0x3d:00${hex(want.udType.id)}`]);
    dhcpcd(e, c.dcType, want.dcType.id); // text: dhcpcd puts the 0 type byte in front
    dhcpcd(e, c.dcText, colonHexText(want.dcText.id)); // colon hex: dhcpcd sends the bytes as they are
    const bound = { dhText: /BOUND ip=(\S+) server=(\S+)/, dhType: /BOUND ip=(\S+) server=(\S+)/, udText: /bound ip=(\S+) server=(\S+)/, udType: /bound ip=(\S+) server=(\S+)/, dcType: /BOUND ip=(\S+) server=(\S+)/, dcText: /BOUND ip=(\S+) server=(\S+)/ };
    for (const k of Object.keys(want) as Array<keyof typeof want>) {
      const m = await waitForFile(c[k].events, bound[k], 20_000);
      t.equal(m[1], want[k].ip, `${k}: ${want[k].id} → ${want[k].ip}`);
      t.equal(m[2], '10.1.1.1', `${k}: from rackstrap`);
      // The log line travels through a pipe: it may arrive after the client's script ran.
      await server.waitFor((l) => l.identifier === want[k].id && l.reply === 'ACK', 5000, `${k}: the ACK log line`);
      const acks = server.exchanges((l) => l.identifier === want[k].id && l.reply === 'ACK');
      t.same([...new Set(acks.map((l) => l.idForm))], [want[k].form], `${k}: option 61 was ${want[k].form}`);
      t.match(acks[0], { interface: 'srv0', address: want[k].ip, kind: want[k].id.includes('MySQL') ? 'mysql' : 'filer' });
    }
    const dh = readFileSync(`${c.dhText.events}.BOUND`, 'utf8');
    t.match(dh, /new_routers=10\.1\.1\.254/);
    t.match(dh, /new_domain_name=lab\.example/);
    t.match(dh, /new_host_name=Filer1/);
    const records = leaseRecords(e.leases).filter((r) => r.op === 'bind');
    for (const k of Object.keys(want) as Array<keyof typeof want>) t.ok(records.some((r) => r.address === want[k].ip && r.client === `id:${want[k].id}`), `${k}: bind record on disk`);
  });

  await t.test("dhclient's script sees every topology object, as the wire encoder made them", async (t) => {
    const topo = await client(e, 'topo');
    dhclient(e, topo, dhclientConf([`send dhcp-client-identifier "${id('00:07:34:10:00:01')}";`], true));
    await waitForFile(topo.events, /BOUND ip=10\.1\.1\.2\d\d /);
    const env = Object.fromEntries(readFileSync(`${topo.events}.BOUND`, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const request = { clusterId: loaded.description.cluster.id, baseMac: '00:07:34:10:00:01' };
    const expected = encodeTopology(topologyFor(loaded, 'Filer1'), { key: KEY, addresses: addressFactsByFiler(loaded).get('Filer1')!, binding: request });
    const got = subOptionsFromDhclientEnv(env, 'rackstrap');
    const notSignature = (objs: SubOption[]) => objs.filter((o) => o.code !== 2);
    t.same(notSignature(got), notSignature(expected), 'every object, code and text, through the option space');
    // Signed per exchange: the 1.0 MAC as the encoder made it, then the binding to dhclient's xid.
    const sig = got.find((o) => o.code === 2)!.text;
    t.equal(sig.replace(/ ~xid=[A-Za-z0-9_-]{22}$/, ''), expected.find((o) => o.code === 2)!.text.replace(/ ~to=\S+$/, ''), 'code 2: the MAC, bound to the exchange');
    t.ok(option43FromDhclientEnv(env)?.equals(subOptionsToBytes(got)), 'raw option 43 byte for byte');
    const decoded = decodeTopology(subOptionsFromDhclientEnv(env, 'rackstrap'), { key: KEY, requireSignature: true, expectFiler: 'Filer1' });
    t.ok(decoded.signed, 'signed with the cluster key, verified');
    t.same(decoded.topology, decodeTopology(expected).topology);
    t.equal(env.new_vendor_class_identifier, 'rackstrap');
    t.equal(env.new_dhcp_lease_time, '300', 'a REQUESTed topology offer gets a short lease');
    const ready = server.lines.find((l) => l.event === 'ready')!;
    t.equal(ready.keyId, '5d4a3a7f', 'the log names the key by its id, as the signature does');
    t.notOk(server.lines.some((l) => /hmac|rackstrap-example-cluster-key/.test(JSON.stringify(l))), 'nothing key-derived in the log');
  });

  await t.test('kill -9 mid-lease: a pool lease and a reservation are renewed after the restart', async (t) => {
    const pool = await client(e, 'pool');
    udhcpc(e, pool, []); // default client id 01+MAC: not a cluster identifier, so the pool
    const [, poolIp] = await waitForFile(pool.events, /bound ip=(10\.1\.1\.1(?:0\d|10)) /);
    // Every address acknowledged so far, from the log on disk: the restarted server must know each.
    const live = new Set(leaseRecords(e.leases).filter((r) => r.op === 'bind' && (r.expires as number) > Date.now()).map((r) => r.address));
    t.ok(live.has(poolIp), `the pool lease ${poolIp} is on disk`);
    server.signal('SIGKILL');
    await server.exited;
    server = await ServeProcess.ready(lab, srv, serveArgs);
    t.equal(server.lines.find((l) => l.event === 'ready')?.leases, live.size, `the restarted server replayed all ${live.size} leases`);
    process.kill(Number(readFileSync(`${pool.events}.pid`, 'utf8')), 'SIGUSR1');
    await waitForFile(pool.events, new RegExp(`renew ip=${poolIp!.replace(/\./g, '\\.')} `));
    await server.waitFor((l) => l.address === poolIp && l.result === 'renewed' && l.state === 'renewing', 5000, 'the renewal');
    t.pass(`the pool lease ${poolIp} was renewed (unicast, RENEWING)`);

    // dhclient restarted with its lease file: INIT-REBOOT for the address it had.
    dhTextChild?.kill('SIGTERM');
    await dhTextChild?.catch(() => undefined);
    dhclient(e, c.dhText, dhclientConf([`send dhcp-client-identifier "${want.dhText.id}";`]));
    await waitForFile(c.dhText.events, /REBOOT ip=10\.1\.1\.2 /);
    await server.waitFor((l) => l.identifier === want.dhText.id && l.state === 'init-reboot' && l.reply === 'ACK', 5000, 'the INIT-REBOOT ACK');
    t.pass('INIT-REBOOT acknowledged');
  });

  await t.test('DECLINE (address in use on the LAN) and RELEASE reach the lease log', async (t) => {
    const squat = await lab.ns('squat');
    await lab.link(squat, 'eth0', sw, 'br0');
    await lab.ip(squat, 'addr', 'add', '10.1.1.12/24', 'dev', 'eth0');
    const dec = await client(e, 'decline');
    udhcpc(e, dec, ['-a', '-x', `0x3d:${hex(id('mgmt0:MySQLDataNode1'))}`]);
    // A reserved address: loud, the lease given up, and no quarantine (only its owner may have it).
    const line = await server.waitFor((l) => l.result === 'reserved-address-conflict' && l.type === 'DECLINE', 15_000, 'the DECLINE');
    t.match(line, { level: 'error', address: '10.1.1.12', identifier: id('mgmt0:MySQLDataNode1'), detail: /in use by another host on the LAN \(duplicate address\)/ });
    await waitForFile(e.leases, /"op":"release","address":"10\.1\.1\.12"/);

    const rel = await client(e, 'release');
    udhcpc(e, rel, ['-x', `0x3d:${hex(id('mgmt1:MySQLDataNode1'))}`]);
    await waitForFile(rel.events, /bound ip=10\.1\.1\.13 /);
    process.kill(Number(readFileSync(`${rel.events}.pid`, 'utf8')), 'SIGUSR2');
    await server.waitFor((l) => l.type === 'RELEASE' && l.result === 'released', 10_000, 'the RELEASE');
    const records = await waitForFile(e.leases, /"op":"release","address":"10\.1\.1\.13"/);
    t.ok(records, 'release record on disk');
  });

  server.signal('SIGTERM');
  const exit = await server.exited;
  t.same(exit, { code: 0, signal: null }, 'SIGTERM: flushed and exited 0');
  t.equal(server.lines.at(-1)?.event, 'stopped');
});
