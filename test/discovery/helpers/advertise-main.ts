// Runs one member's advertiser (the same code the agent and the join server run) in whatever
// namespace it is started in, printing every event as a JSON line; SIGTERM stops it cleanly
// (goodbye), SIGKILL makes it vanish silently. Driven by the discovery tests and the bench.
//
//   node advertise-main.js '{"member":"filer1","txt":{...},"interfaces":[{"ifname":"mgmt0","addresses":["10.0.0.1"]}]}'
// stdin lines: {"addresses":{"mgmt0":["10.0.0.9"]}} or {"txt":{...}}
import { createInterface } from 'node:readline';
import { startAdvertiser, type AdvertiseOptions } from '../../../src/discovery/advertiser.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as AdvertiseOptions;
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const adv = await startAdvertiser({ ...opts, onEvent: (e) => out(e) });
out({ event: 'started', mode: adv.mode });
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { addresses?: Record<string, string[]>; txt?: AdvertiseOptions['txt'] };
  for (const [ifname, addrs] of Object.entries(cmd.addresses ?? {})) void adv.updateAddresses(ifname, addrs);
  if (cmd.txt !== undefined) void adv.updateTxt(cmd.txt);
});
const stop = () => {
  void adv.stop().then(() => {
    out({ event: 'stopped' });
    process.exit(0);
  });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
