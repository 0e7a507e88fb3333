// rackstrap validate FILE (definition: ../commands/validate.ts): every rule on a cluster description. Problems go to stderr as
// `file:line:col field: rule`, one per line, in file order; exit 1 when any is an error.
import { keyId, readDescriptionKey } from '../../cluster-key/key-file.js';
import { ConfigError, formatProblem, type Problem } from '../../errors.js';
import { loadClusterFile, type LoadedCluster } from '../../options/load.js';
import { reservationsOf } from '../../options/resolve.js';
import { ExitCode, type Io } from '../main.js';

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
    const loaded = await loadClusterFile(file);
    for (const w of loaded.warnings) io.err(formatProblem(w));
    return loaded;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) io.err(formatProblem(p));
    io.err(`${file}: ${summary(e.problems)}`);
    throw new ExitCode(1);
  }
}

function summary(problems: Problem[]): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  return warnings ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : plural(errors, 'error');
}

export async function run(io: Io, file: string): Promise<void> {
  const loaded = await loadOrReport(file, io);
  const ids = reservationsOf(loaded).length;
  const vservers = Object.keys(loaded.description.vservers).length;
  // The key is checked as gen and serve will read it: a description whose key file is missing
  // or the wrong size is not ready to use.
  const key = await readDescriptionKey(loaded);
  const signed = key === undefined ? '' : `, signed with key ${keyId(key)}`;
  const warn = loaded.warnings.length ? `, ${plural(loaded.warnings.length, 'warning')}` : '';
  io.out(`${file}: ok (${plural(loaded.filers.size, 'filer')}, ${plural(vservers, 'virtual server')}, ${plural(ids, 'identifier')}${signed}${warn})`);
}
