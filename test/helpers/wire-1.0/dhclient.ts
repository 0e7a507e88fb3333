// What ISC dhclient hands its script, turned back into sub-options, so a topology received by a
// stock dhclient (the reference client of shared/notes/dhcp-servers.md) decodes like one read
// from the packet. dhclient names a sub-option `new_<space>_<option name>` (dashes become
// underscores), `new_<space>_unknown_<code>` when the space does not define the code, and prints
// text with `"` `\` `$` backslash-escaped and non-printables as \ooo octal (any `\x` is undone
// as `x`). Our alphabet needs none of that, but the unescaping keeps a corrupted object reportable.
import { DecodeError } from '../../../src/errors.js';
import type { SubOption } from './sub-options.js';

/** dhclient's name for sub-option `code` when the space defines it as `option <space>.o<code>`. */
export const DHCLIENT_OPTION_PREFIX = 'o';

/** Reverses dhclient's text escaping (pretty_print_option, format 't') into one char per byte. */
export function unescapeDhclientText(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const oct = /^[0-7]{3}/.exec(value.slice(i + 1));
    if (oct) {
      out += String.fromCharCode(parseInt(oct[0], 8) & 0xff);
      i += 3;
    } else if (i + 1 < value.length) {
      out += value[++i];
    } else {
      throw new DecodeError('dhclient value ends in a lone backslash');
    }
  }
  return out;
}

/** dhclient prints undefined, non-printable options as colon-separated hex without zero padding. */
const COLON_HEX = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2})+$/;

function fromColonHex(value: string): Buffer {
  return Buffer.from(value.split(':').map((h) => parseInt(h, 16)));
}

/** The environment variable prefix of a space: dhclient turns dashes into underscores. */
function envSpace(space: string): string {
  return space.replace(/-/g, '_');
}

/**
 * The sub-options of `space` from a dhclient script environment, sorted by code. Reads
 * `<prefix><space>_o<code>` (defined as text) and `<prefix><space>_unknown_<code>` (undefined;
 * printable text or colon-hex). `prefix` is `new_` (the offer being bound) or `old_`.
 */
export function subOptionsFromDhclientEnv(
  env: Readonly<Record<string, string | undefined>>,
  space: string,
  prefix: 'new_' | 'old_' = 'new_',
): SubOption[] {
  const start = `${prefix}${envSpace(space)}_`;
  const re = new RegExp(`^(?:${DHCLIENT_OPTION_PREFIX}|unknown_)(0|[1-9][0-9]{0,2})$`);
  const out: SubOption[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(start)) continue;
    const m = re.exec(name.slice(start.length));
    if (!m) continue;
    const code = Number(m[1]);
    const known = name.slice(start.length).startsWith(DHCLIENT_OPTION_PREFIX);
    const text = !known && COLON_HEX.test(value) ? fromColonHex(value).toString('latin1') : unescapeDhclientText(value);
    out.push({ code, text });
  }
  return out.sort((a, b) => a.code - b.code);
}

/**
 * Raw option 43 as dhclient also exports it (`new_vendor_encapsulated_options`, colon-hex), or
 * undefined when absent. Feed it to parseSubOptions/decodeTopology.
 */
export function option43FromDhclientEnv(
  env: Readonly<Record<string, string | undefined>>,
  prefix: 'new_' | 'old_' = 'new_',
): Buffer | undefined {
  const v = env[`${prefix}vendor_encapsulated_options`];
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/.test(v)) throw new DecodeError('vendor_encapsulated_options is not colon-hex');
  return fromColonHex(v.toLowerCase());
}
