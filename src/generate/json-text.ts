// JSON laid out for people: nested structure indented, but an object or array whose one-line form
// is short enough stays on one line, so a list of reservations reads (and diffs) one per line.
// Plain JSON: any parser, jq or Kea reads it.

/** JSON text already laid out on one line (built by the caller, e.g. one of 30,000 reservations). */
export class RawJson {
  constructor(readonly text: string) {}
  /** JSON.stringify of a structure holding it gives the value, not the wrapper. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

type Json = null | boolean | number | string | RawJson | Json[] | { [k: string]: Json };

export function formatJson(value: Json, opts: { width?: number } = {}): string {
  const width = opts.width ?? 160;
  /** The one-line form if it fits in `room` characters, else undefined (stops building early). */
  const inline = (v: Json, room: number): string | undefined => {
    if (v instanceof RawJson) return v.text.length <= room ? v.text : undefined;
    if (v === null || typeof v !== 'object') {
      const t = JSON.stringify(v);
      return t.length <= room ? t : undefined;
    }
    const parts: string[] = [];
    let used = 4;
    const add = (t: string | undefined): boolean => {
      if (t === undefined) return false;
      used += t.length + 2;
      parts.push(t);
      return used <= room;
    };
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      for (const x of v) if (!add(inline(x, room - used))) return undefined;
      return `[ ${parts.join(', ')} ]`;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    for (const [k, x] of entries) {
      const key = `${JSON.stringify(k)}: `;
      const val = inline(x, room - used - key.length);
      if (!add(val === undefined ? undefined : key + val)) return undefined;
    }
    return `{ ${parts.join(', ')} }`;
  };
  const block = (v: Json, indent: string, lead: number): string => {
    if (v instanceof RawJson) return v.text;
    const one = inline(v, width - lead);
    if (one !== undefined) return one;
    const inner = `${indent}  `;
    if (Array.isArray(v)) return `[\n${v.map((x) => `${inner}${block(x, inner, inner.length)}`).join(',\n')}\n${indent}]`;
    const lines = Object.entries(v as { [k: string]: Json }).map(([k, x]) => {
      const key = `${JSON.stringify(k)}: `;
      return `${inner}${key}${block(x, inner, inner.length + key.length)}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  };
  return block(value, '', 0);
}

export type { Json };
