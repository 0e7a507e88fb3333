// Address tags (format 1.1): what a signed topology says about the addresses its filer will be
// offered. Every reservation the filer asks for (its own mgmt#/san# addresses, the addresses of the
// virtual servers and MySQL roles homed on it) is fixed in the description, so the signer knows in
// advance what a genuine server offers for each identifier: the address, its prefix length and the
// router the agent will take from it. A tag is a keyed MAC over exactly that; the topology carries
// the tags of all its identifiers, unordered, in `~addr` objects. An agent holding the key checks
// each OFFER and ACK against them and takes nothing else, so a second DHCP server on the LAN can
// no longer hand a keyed filer an address or a default route.
//
// Why tags and not the addresses in clear: 8 bytes per identifier instead of ~10 for a dotted
// address plus a prefix length and a router list per subnet; and a tag is checked per OFFER, so
// the agent can pick the genuine answer out of a race (a digest over the whole set could only be
// checked once every lease had arrived). The price: the topology does not tell the agent which
// address is right, only whether an offered one is.
import { createHmac } from 'node:crypto';
import { contains, formatIp, parseCidr, parseIp } from '../rules/ip.js';
import { ADDRESS_TAG_BYTES, ADDRESS_TAG_CHARS, MAX_OBJECT_BYTES } from './constants.js';
import { checkKey } from './signature.js';

/** What a genuine server hands out for one identifier, and what the agent applies from it. */
export interface AddressFacts {
  /** Option 61 text: `<cluster-id>:<alias>:<filer>` and the like. */
  identifier: string;
  /** Dotted IPv4 address (yiaddr). */
  address: string;
  /** From option 1. */
  prefixLength: number;
  /** The router the agent takes from option 3 (firstOnLinkRouter); undefined when none. */
  router: string | undefined;
}

/** Keyword of the tag objects: `~addr <tag><tag>...`. */
export const ADDRESS_KEYWORD = 'addr';
/** Tags one object holds: `~addr ` plus 8 characters each within 253 bytes. */
export const TAGS_PER_OBJECT = Math.floor((MAX_OBJECT_BYTES - `~${ADDRESS_KEYWORD} `.length) / ADDRESS_TAG_CHARS);

const TAG_DOMAIN = 'rackstrap-address/1\n';
const TAGS_RE = new RegExp(`^(?:[A-Za-z0-9_-]{${ADDRESS_TAG_CHARS}})+$`);

const canonicalV4 = (text: string): string | undefined => {
  const ip = parseIp(text);
  return ip?.family === 4 ? formatIp(4, ip.value) : undefined;
};

/**
 * The router option 3 gives this address: the first IPv4 router inside the address's own subnet
 * (RFC 2132 §3.5 lists routers in order of preference; one off the subnet is unreachable).
 */
export function firstOnLinkRouter(address: string, prefixLength: number, routers: readonly string[]): string | undefined {
  const net = parseCidr(`${address}/${prefixLength}`);
  if (net === undefined || net.family !== 4) return undefined;
  for (const r of routers) {
    const ip = parseIp(r);
    if (ip !== undefined && contains(net, ip)) return formatIp(4, ip.value);
  }
  return undefined;
}

/** The bytes a tag covers: identifier, address/prefix and router, each on its own line. */
function tagInput(f: AddressFacts): string | undefined {
  const address = canonicalV4(f.address);
  if (address === undefined || !Number.isInteger(f.prefixLength) || f.prefixLength < 0 || f.prefixLength > 32) return undefined;
  const router = f.router === undefined ? '-' : canonicalV4(f.router);
  if (router === undefined) return undefined;
  return `${TAG_DOMAIN}${f.identifier}\n${address}/${f.prefixLength}\n${router}\n`;
}

/** One identifier's tag: HMAC-SHA-256 with the cluster key, first 48 bits, base64url. */
export function addressTag(key: Buffer, f: AddressFacts): string {
  checkKey(key);
  const input = tagInput(f);
  if (input === undefined) throw new TypeError(`address facts of ${f.identifier} are not IPv4 (${f.address}/${f.prefixLength} via ${f.router ?? 'none'})`);
  return createHmac('sha256', key).update(input, 'latin1').digest().subarray(0, ADDRESS_TAG_BYTES).toString('base64url');
}

/** True when `tags` holds the tag of these facts: what a genuine server offers for the identifier. */
export function hasAddressTag(key: Buffer, tags: ReadonlySet<string>, f: AddressFacts): boolean {
  if (tagInput(f) === undefined) return false;
  // Set membership is not constant-time, but the tag being looked up is computed from what the
  // OFFER says, which its sender knows already; only the set's content is secret-derived.
  return tags.has(addressTag(key, f));
}

/** The `~addr` objects' texts for these tags: sorted (canonical bytes), 30 per object. */
export function addressTagObjects(tags: readonly string[]): string[] {
  const sorted = [...new Set(tags)].sort();
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i += TAGS_PER_OBJECT) out.push(`~${ADDRESS_KEYWORD} ${sorted.slice(i, i + TAGS_PER_OBJECT).join('')}`);
  return out;
}

/** Splits an `~addr` object's name token into tags, or undefined when it is not a run of tags. */
export function splitAddressTags(token: string): string[] | undefined {
  if (!TAGS_RE.test(token)) return undefined;
  const out: string[] = [];
  for (let i = 0; i < token.length; i += ADDRESS_TAG_CHARS) out.push(token.slice(i, i + ADDRESS_TAG_CHARS));
  return out;
}
