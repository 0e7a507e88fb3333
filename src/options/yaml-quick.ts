// The quick read of a cluster description: js-yaml gives the plain data about fifteen times faster
// than yaml's document, which keeps every node's source position. The quick read is used only when
// the data it gives is exactly what the full read (load.ts, yaml's YAML 1.2 core schema, then toJS)
// would give; anything it cannot vouch for returns a reason instead, and the caller reads the text
// again the full way, which also gives every message its position.
//
// What it vouches for: one document, scalars resolved by YAML 1.2 core's rules (the same patterns
// as yaml's core schema: no `0b`, no `_` in numbers, no sign before `0x`, no timestamps, no merge
// keys), no repeated keys (js-yaml refuses them), nothing reachable twice (an alias of a mapping
// or list: yaml's alias limit and its message belong to the full read), nesting well within
// MAX_NESTING. It refuses, from the text, whatever the two readers treat differently or where yaml
// only warns: directives, tags, lone carriage returns, tabs, zero bytes, complex keys, alias keys,
// anchors or aliases whose names end in `:`, flow collections closed at the start of a line, and
// scalars written over more than one line.
import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';
import { MAX_NESTING } from './yaml-bounds.js';

export type QuickRead = { ok: true; data: Record<string, unknown> } | { ok: false; why: string };

// YAML 1.2 core schema, with yaml's patterns (yaml/dist/schema/core) and its toJS results.
const nullType = new Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (s: string | null) => s === null || /^(?:~|[Nn]ull|NULL)?$/.test(s),
  construct: () => null,
});
const boolType = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (s: string | null) => s !== null && /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s),
  construct: (s: string) => s[0] === 't' || s[0] === 'T',
});
const intType = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (s: string | null) => s !== null && /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.test(s),
  construct: (s: string) => (s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
});
const floatType = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (s: string | null) =>
    s !== null &&
    /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/.test(s),
  construct: (s: string) => {
    if (s.slice(-3).toLowerCase() === 'nan') return NaN;
    if (s.slice(-3).toLowerCase() === 'inf') return s[0] === '-' ? -Infinity : Infinity;
    return parseFloat(s);
  },
});
const CORE_1_2 = FAILSAFE_SCHEMA.extend({ implicit: [nullType, boolType, intType, floatType] });

/** What in the text the quick read leaves to the full one, each with the reason given. */
const REFUSED: ReadonlyArray<readonly [RegExp, string]> = [
  [/\0/, 'a zero byte'],
  [/^%/m, 'a directive'],
  [/(?:^|[\s,[\]{}:?-])!/, 'a tag'],
  [/\t/, 'a tab'],
  [/\r(?!\n)/, 'a carriage return alone'],
  [/(?:^|[\s,[{])\?(?:\s|$)/, 'an explicit key'],
  [/[\]}][ ]*:(?:\s|$)/, 'a collection as a key'],
  [/\*[^\s,[\]{}]*[ ]*:(?:\s|$)/, 'an alias as a key'],
  [/[&*][^\s,[\]{}]*:(?:[\s,[\]{}]|$)/, 'an anchor or alias ending in ":"'],
  [/^[ ]*[\]}]/m, 'a flow collection closed at the start of a line'],
];

/** Keys the two readers store differently (a null key) or treat specially. */
const REFUSED_KEYS = new Set(['', 'null', '__proto__', '<<']);

/** The description's data read by js-yaml, or why the full read must do it. */
export function readYamlQuick(text: string): QuickRead {
  for (const [pattern, why] of REFUSED) if (pattern.test(text)) return { ok: false, why };
  let data: unknown;
  // Where each open node began: a scalar whose text spans lines (a block scalar, a folded plain
  // or quoted one, or one on the line after its key) is left to the full read, as the two readers
  // differ on how far such a scalar's lines must be indented.
  const opened: number[] = [];
  let multiLine = false;
  const listener = (event: 'open' | 'close', state: { position: number; kind: string | null }) => {
    if (event === 'open') opened.push(state.position);
    else {
      const from = opened.pop()!;
      if (!multiLine && state.kind === 'scalar') {
        const nl = text.indexOf('\n', from);
        if (nl !== -1 && nl < state.position) multiLine = true;
      }
    }
  };
  try {
    data = load(text, { schema: CORE_1_2, json: false, listener });
  } catch (e) {
    return { ok: false, why: `js-yaml: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }
  if (multiLine) return { ok: false, why: 'a scalar on more than one line' };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, why: 'not a mapping' };
  const why = checkPlain(data);
  return why === undefined ? { ok: true, data: data as Record<string, unknown> } : { ok: false, why };
}

/**
 * One walk over the data: every collection seen once (a second sighting is an alias of a mapping
 * or list), nesting within MAX_NESTING, no key in REFUSED_KEYS. Recursion is bounded by the depth.
 */
function checkPlain(root: object): string | undefined {
  const seen = new Set<object>();
  function walk(v: unknown, depth: number): string | undefined {
    if (v === null || typeof v !== 'object') return undefined;
    // Two levels short of the full read's limit, so the two never disagree at its edge.
    if (depth > MAX_NESTING - 2) return `nested more than ${MAX_NESTING - 2} levels`;
    if (seen.has(v)) return 'a collection reached twice (an alias)';
    seen.add(v);
    if (Array.isArray(v)) {
      for (const item of v) {
        const why = walk(item, depth + 1);
        if (why !== undefined) return why;
      }
      return undefined;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return 'not plain data';
    for (const key of Object.keys(v)) {
      if (REFUSED_KEYS.has(key)) return `the key "${key}"`;
      const why = walk((v as Record<string, unknown>)[key], depth + 1);
      if (why !== undefined) return why;
    }
    return undefined;
  }
  return walk(root, 1);
}
