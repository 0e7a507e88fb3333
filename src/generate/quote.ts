// Text values as each server's configuration language wants them. Everything generated goes
// through here, so a value a server would read differently (a quote, a comma for Kea, a control
// byte) is escaped or refused, never passed on. Wire objects never hold such characters (their
// alphabet excludes them), but domains, vendor classes and names come from the admin.
import { GenerateError } from './errors.js';

const PRINTABLE = /^[\x20-\x7e]*$/;

function requirePrintable(what: string, s: string): void {
  if (!PRINTABLE.test(s)) throw new GenerateError(`${what} ${JSON.stringify(s)} holds a byte outside printable ASCII`);
}

/** dhcpd.conf string: double quotes, `"` and `\` backslash-escaped (dhcpd's lexer). */
export function dhcpdString(what: string, s: string): string {
  requirePrintable(what, s);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** dnsmasq quoted value: inside quotes commas are data; `"` and `\` backslash-escaped. */
export function dnsmasqString(what: string, s: string): string {
  requirePrintable(what, s);
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A dnsmasq token used unquoted (tags, vendor class): no separator or quoting character in it. */
export function dnsmasqToken(what: string, s: string): string {
  requirePrintable(what, s);
  if (!/^[^\s,"'\\#=]+$/.test(s)) throw new GenerateError(`${what} ${JSON.stringify(s)} cannot be written in dnsmasq.conf (it holds a space, comma, quote, backslash, # or =)`);
  return s;
}

/**
 * Kea option-data text with csv-format (the default): an unescaped comma separates fields, so a
 * string option loses everything after it (measured, dhcp-servers.md). `\,` keeps it.
 */
export function keaText(what: string, s: string): string {
  requirePrintable(what, s);
  return s.replace(/,/g, '\\,');
}

/** A Kea expression comparing a text option: quoted text when it can be, hex otherwise. */
export function keaTextEquals(optionCode: number, what: string, s: string): string {
  requirePrintable(what, s);
  if (/^[^'\\]*$/.test(s)) return `option[${optionCode}].text == '${s}'`;
  return `option[${optionCode}].hex == 0x${Buffer.from(s, 'latin1').toString('hex')}`;
}

/** Kea's client-id form of a text identifier: its bytes as colon-separated hex (dhcp-servers.md). */
export function keaClientId(identifier: string): string {
  requirePrintable('identifier', identifier);
  const parts: string[] = new Array(identifier.length);
  for (let i = 0; i < identifier.length; i++) parts[i] = HEX[identifier.charCodeAt(i)]!;
  return parts.join(':');
}
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** A name usable as a dhcpd host name or Kea/dnsmasq class or tag: letters, digits, - and _. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}
