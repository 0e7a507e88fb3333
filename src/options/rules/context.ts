// What every rule works on and returns. A rule is a small pure function from a context to
// findings; a finding names the path of the offending field *as written in the file* (a template
// entry is reported where the template says it, not under the filer that inherited it) so that
// load.ts can turn it into `file:line:col field: rule`.
import type { Stack } from '../schema.js';

/** A path into the YAML document: map keys and sequence indexes. */
export type Path = Array<string | number>;

export type Severity = 'error' | 'warning';

export interface Finding {
  path: Path;
  rule: string;
  severity: Severity;
}

export function error(path: Path, rule: string): Finding {
  return { path, rule, severity: 'error' };
}

export function warning(path: Path, rule: string): Finding {
  return { path, rule, severity: 'warning' };
}

/**
 * `filers.Filer1.stack.bonds.bond1.members[0]`, `templates.standard.mtu["bond0.10"]`: dotted for
 * plain keys, bracketed for indexes and for keys a dot would make ambiguous.
 */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(document)' : out;
}

export type Section = 'bonds' | 'failovers' | 'vlans' | 'aliases' | 'mtu';

/**
 * One stack as the stack rules see it: the stack itself, the NICs it may use, and where each
 * entry was written. The same rules serve a filer of a cluster description (entries may come from
 * a template) and a bare topology decoded from DHCP (paths relative to the stack).
 */
export interface StackView {
  stack: Stack;
  /** NIC names (lower-case) the stack may use; undefined: any eth# name counts as a NIC. */
  nics: ReadonlySet<string> | undefined;
  /** Path of one entry: at('bonds', 'bond0'), at('vlans', 'bond0.10'). */
  at(section: Section, name: string): Path;
  /** Path of a NIC entry, when the NICs were declared somewhere. */
  atNic(name: string): Path | undefined;
  /** "Filer1", or "this stack": used in messages. */
  subject: string;
}

/** A StackView for a stack on its own, as decoded from the wire: paths are relative to the stack. */
export function bareStackView(stack: Stack, nics?: readonly string[]): StackView {
  return {
    stack,
    nics: nics ? new Set(nics.map((n) => n.toLowerCase())) : undefined,
    at: (section, name) => {
      if (section === 'vlans') {
        const i = stack.vlans.indexOf(name);
        return i >= 0 ? ['vlans', i] : ['vlans'];
      }
      return [section, name];
    },
    atNic: () => undefined,
    subject: 'this stack',
  };
}

/** Most other holders or addresses one message lists; the rest are counted, so a message stays a line. */
export const LIST_AT_MOST = 5;

/** `a, b, c, d, e and 12 more`. */
export function listSome(items: readonly string[], most = LIST_AT_MOST): string {
  if (items.length <= most) return items.join(', ');
  return `${items.slice(0, most).join(', ')} and ${items.length - most} more`;
}
