// rackstrap validate FILE (definition: ../commands/validate.ts): every rule on a cluster description. Problems go to stderr as
// `file:line:col field: rule`, one per line, in file order; exit 1 when any is an error.
import { keyId, readDescriptionKey } from '../../cluster-key/key-file.js';
import { keyFileModeWarning } from '../../cluster-key/key-file-mode.js';
import { ConfigError, formatProblem, formatProblemShown, type Problem } from '../../errors.js';
import { loadClusterFile, loadClusterText, MAX_DESCRIPTION_BYTES, type LoadedCluster } from '../../options/load.js';
import { ipv6AddressesOf, ipv6Notice, reservationsOf } from '../../options/resolve.js';
import type { ValidateOptions } from '../commands/validate.js';
import { budgetProblems, topologyBudget } from '../../generate/budget.js';
import { ExitCode, type Io } from '../main.js';
import { readInputLimited } from '../../input/read-limited.js';

/** A description from a file, or from standard input when the file is `-`. */
export async function loadDescription(file: string): Promise<LoadedCluster> {
  if (file !== '-') return loadClusterFile(file);
  return loadClusterText((await readInputLimited('-', { maxBytes: MAX_DESCRIPTION_BYTES, what: 'cluster description' })).toString('utf8'), '-');
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Loads a description for a command; on a ConfigError prints every problem and a count, then
 * fails with exit 1 (the problems are the message, nothing else to add). Warnings of a valid
 * description are printed too: they are for the admin whatever the command.
 */
export async function loadOrReport(file: string, io: Io): Promise<LoadedCluster> {
  try {
    const loaded = await loadDescription(file);
    for (const w of loaded.warnings) io.err(formatProblem(w));
    return loaded;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) io.err(formatProblemShown(p));
    io.err(`${file}: ${summary(e.problems)}`);
    throw new ExitCode(1);
  }
}

function summary(problems: Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  return warnings ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : plural(errors, 'error');
}

export async function run(io: Io, file: string, o: ValidateOptions = {}): Promise<void> {
  if (o.json) return runJson(io, file, o);
  const loaded = await loadOrReport(file, io);
  const ids = reservationsOf(loaded).length;
  const vservers = Object.keys(loaded.description.vservers).length;
  // The key is checked as gen and serve will read it: a description whose key file is missing
  // or the wrong size is not ready to use.
  const key = await readDescriptionKey(loaded);
  const exposed = loaded.keyFile === undefined ? undefined : keyFileModeWarning(loaded.keyFile);
  if (exposed !== undefined) io.err(exposed);
  const signed = key === undefined ? '' : `, signed with key ${keyId(key)}`;
  // The option 43 budget: a topology the DHCP servers cannot deliver whole.
  const budget = budgetProblems(topologyBudget(loaded, key === undefined ? {} : { key })).map((p) => ({ ...p, file }));
  for (const p of budget) io.err(formatProblem(p));
  if (budget.some((p) => p.severity === 'error')) {
    io.err(`${file}: ${summary([...loaded.warnings, ...budget])}`);
    throw new ExitCode(1);
  }
  const v6 = ipv6Notice(loaded);
  if (v6 !== undefined) io.err(v6);
  const warnings = loaded.warnings.length + budget.length;
  const warn = warnings ? `, ${plural(warnings, 'warning')}` : '';
  io.out(`${file}: ok (${plural(loaded.filers.size, 'filer')}, ${plural(vservers, 'virtual server')}, ${plural(ids, 'identifier')}${signed}${warn})`);
  if (o.strict && loaded.warnings.length > 0) {
    io.err(`${file}: --strict: ${plural(loaded.warnings.length, 'warning')} count as errors`);
    throw new ExitCode(1);
  }
}

/** --json: one object on stdout, problems included (nothing on stderr); exit 1 as without it. */
async function runJson(io: Io, file: string, o: ValidateOptions): Promise<void> {
  let loaded: LoadedCluster;
  try {
    loaded = await loadDescription(file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const errors = e.problems.filter((p) => p.severity === 'error').length;
    io.out(JSON.stringify({ file, ok: false, errors, warnings: e.problems.length - errors, problems: e.problems }, null, 1));
    throw new ExitCode(1);
  }
  const key = await readDescriptionKey(loaded);
  const budgets = topologyBudget(loaded, key === undefined ? {} : { key });
  const over = budgetProblems(budgets).map((p) => ({ ...p, file }));
  const problems = [...loaded.warnings, ...over];
  const errors = problems.filter((p) => p.severity === 'error').length;
  const ok = errors === 0 && !(o.strict && loaded.warnings.length > 0);
  io.out(
    JSON.stringify(
      {
        file,
        ok,
        errors,
        warnings: problems.length - errors,
        filers: loaded.filers.size,
        virtualServers: Object.keys(loaded.description.vservers).length,
        identifiers: reservationsOf(loaded).length,
        keyId: key === undefined ? null : keyId(key),
        // Option 43 per filer: its topology's size and, per DHCP server, the room it has.
        budget: budgets.map((b) => ({ filer: b.filer, size: b.size, targets: b.fits.map((f) => ({ target: f.target, server: f.label, limit: f.limit, subnet: f.subnet, fits: b.size <= f.limit })) })),
        // Addresses DHCPv4 does not serve (the "IPv6: not served by DHCPv4 yet" line).
        ipv6: ipv6AddressesOf(loaded),
        problems,
      },
      null,
      1,
    ),
  );
  if (!ok) throw new ExitCode(1);
}
