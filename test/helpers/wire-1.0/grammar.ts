// The text layer of one object: alphabet, tokens, `key=value` attributes, `+` lists, numbers.
// The alphabet is chosen so that every measured server and dhclient pass it byte for byte with no
// quoting or escaping (shared/notes/dhcp-servers.md): no comma (Kea cuts unquoted text there), no
// quote, backslash or `$` (dhclient escapes them for its script), nothing non-printable.
import { WireDecodeError } from './errors.js';

/** Characters allowed in an object, besides single spaces between tokens. */
const TOKEN_CHAR = /^[A-Za-z0-9._\-:+/=~]$/;
/** Characters allowed in a name or value (no `=`, which separates keys, and no `~`, which marks optional). */
export const VALUE_RE = /^[A-Za-z0-9._\-:+/]+$/;
/** Attribute keys: lower-case, Linux bonding option names where one exists (lacp_rate, miimon, ...). */
export const KEY_RE = /^[a-z][a-z0-9_]*$/;
/** Decimal without leading zeros, at most 10 digits (the numbers we carry are 31-bit at most). */
const NUMBER_RE = /^(0|[1-9][0-9]{0,9})$/;

/** The prefix marking an attribute or object a reader may skip when it does not know it. */
export const OPTIONAL_MARK = '~';
/** Separator of list items: members=eth0+eth1. */
export const LIST_SEPARATOR = '+';

export function isObjectChar(ch: string): boolean {
  return ch === ' ' || TOKEN_CHAR.test(ch);
}

/** Where an object came from, for error messages: the sub-option code and, once known, its name. */
export interface ObjectRef {
  code: number;
  name?: string;
}

export function describe(ref: ObjectRef): string {
  return ref.name === undefined ? `sub-option ${ref.code}` : `sub-option ${ref.code} (${ref.name})`;
}

export function grammarError(ref: ObjectRef, what: string): WireDecodeError {
  return new WireDecodeError('RS_WIRE_GRAMMAR', `${describe(ref)}: ${what}`);
}

/** Throws RS_WIRE_ILLEGAL_BYTE at the first character outside the alphabet. */
export function checkAlphabet(ref: ObjectRef, text: string): void {
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!isObjectChar(ch)) {
      const byte = ch.charCodeAt(0);
      const shown = byte >= 0x21 && byte <= 0x7e ? ` '${ch}'` : '';
      throw new WireDecodeError(
        'RS_WIRE_ILLEGAL_BYTE',
        `${describe(ref)}: byte 0x${byte.toString(16).padStart(2, '0')}${shown} at position ${i} is not allowed in an object`,
      );
    }
  }
}

/** Splits on single spaces; empty objects, leading/trailing or double spaces are grammar errors. */
export function splitTokens(ref: ObjectRef, text: string): string[] {
  if (text.length === 0) throw grammarError(ref, 'object is empty');
  const tokens = text.split(' ');
  if (tokens.some((t) => t.length === 0)) {
    throw grammarError(ref, 'tokens are separated by exactly one space, with none at either end');
  }
  return tokens;
}

export interface Attribute {
  key: string;
  value: string;
  /** Written with the `~` prefix: skip it if unknown. */
  optional: boolean;
}

/** A tokenized object: the leading name tokens (the kind and names) and its attributes. */
export interface ParsedObject {
  /** The first token carried the `~` prefix (which is stripped from `names[0]`). */
  optional: boolean;
  names: string[];
  attrs: Attribute[];
}

/**
 * Tokenizes one object: `[~]name [name2] key=value ... [~key=value]`. Names come first, then only
 * attributes; keys are unique within an object.
 */
export function parseObject(ref: ObjectRef, text: string): ParsedObject {
  checkAlphabet(ref, text);
  const tokens = splitTokens(ref, text);
  let optional = false;
  const names: string[] = [];
  const attrs: Attribute[] = [];
  const seen = new Set<string>();
  tokens.forEach((token, i) => {
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (attrs.length > 0) throw grammarError(ref, `"${token}" after attributes: expected key=value`);
      let name = token;
      if (i === 0 && name.startsWith(OPTIONAL_MARK)) {
        optional = true;
        name = name.slice(OPTIONAL_MARK.length);
      }
      if (!VALUE_RE.test(name)) throw grammarError(ref, `"${token}" is not a name`);
      names.push(name);
      return;
    }
    if (i === 0) throw grammarError(ref, `an object starts with its name, not "${token}"`);
    const isOptional = token.startsWith(OPTIONAL_MARK);
    const key = token.slice(isOptional ? OPTIONAL_MARK.length : 0, eq);
    const value = token.slice(eq + 1);
    if (!KEY_RE.test(key)) throw grammarError(ref, `"${token}": attribute key must be lower-case letters, digits and _`);
    if (!VALUE_RE.test(value)) throw grammarError(ref, `"${token}": attribute value is empty or has "=" or "~"`);
    if (seen.has(key)) {
      throw new WireDecodeError('RS_WIRE_DUPLICATE_ATTRIBUTE', `${describe({ ...ref, name: names[0] })}: attribute "${key}" given twice`);
    }
    seen.add(key);
    attrs.push({ key, value, optional: isOptional });
  });
  return { optional, names, attrs };
}

/** Writes an object; the caller guarantees names and values are in the grammar. */
export function formatObject(names: readonly string[], attrs: ReadonlyArray<readonly [string, string]>): string {
  return [...names, ...attrs.map(([k, v]) => `${k}=${v}`)].join(' ');
}

/** Splits a `+` list; every item must be non-empty. */
export function parseList(ref: ObjectRef, key: string, value: string): string[] {
  const items = value.split(LIST_SEPARATOR);
  if (items.some((s) => s.length === 0)) throw grammarError(ref, `${key}: empty item in "${value}"`);
  return items;
}

export function parseNumber(ref: ObjectRef, key: string, value: string): number {
  if (!NUMBER_RE.test(value)) throw grammarError(ref, `${key}=${value}: expected a decimal number without leading zeros`);
  return Number(value);
}

/**
 * Picks the known attributes of an object. An unknown attribute marked `~` is skipped and noted in
 * `skipped`; an unknown unmarked one rejects the topology (seed 001: IPVS sync v1 keeps a
 * connection with an unknown *optional* parameter and drops it otherwise). `required` keys must be
 * present.
 */
export function takeAttributes(
  ref: ObjectRef,
  attrs: readonly Attribute[],
  known: readonly string[],
  required: readonly string[],
  skipped: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of attrs) {
    if (known.includes(a.key)) {
      out.set(a.key, a.value);
    } else if (a.optional) {
      skipped.push(`${describe(ref)}: ${OPTIONAL_MARK}${a.key}`);
    } else {
      throw new WireDecodeError(
        'RS_WIRE_UNKNOWN_ATTRIBUTE',
        `${describe(ref)}: unknown attribute "${a.key}" (not marked optional with ${OPTIONAL_MARK})`,
      );
    }
  }
  for (const key of required) {
    if (!out.has(key)) throw new WireDecodeError('RS_WIRE_MISSING_ATTRIBUTE', `${describe(ref)}: ${key}= is required`);
  }
  return out;
}
