// A first look at a datagram before it is decoded, so that a flood costs the server as little
// as possible per packet: is it a cluster client (its client identifier is one of the cluster's,
// and a topology request carries the vendor class), or a stranger's DISCOVER? Only the plain
// options field is read, every access bounds-checked; anything unusual (sname/file overload, an
// option split over several instances, RFC 3396) is left for the full decode to decide. Pure.

import { MAGIC_COOKIE, MESSAGE_TYPE, OP, OPTION } from '../dhcp-packet/index.js';
import type { ServerConfig } from './config.js';
import type { Priority } from './intake.js';
import { textOf } from './respond.js';

/** RFC 2131 §3: the options field starts after the 236-byte header and the 4-byte magic cookie. */
const COOKIE_OFFSET = 236;
const OPTIONS_OFFSET = 240;
/** RFC 2132 §9.3: the overload option. */
const OVERLOAD = 52;

/**
 * 0 for a request of a cluster client, 2 for a DISCOVER of anyone else; undefined when only the
 * full decode can tell (not a DISCOVER, malformed, unusual encoding).
 */
export function triage(buf: Buffer, config: ServerConfig): Priority | undefined {
  if (buf.length < OPTIONS_OFFSET || buf[0] !== OP.BOOTREQUEST || buf.readUInt32BE(COOKIE_OFFSET) !== MAGIC_COOKIE) return undefined;
  let type: number | undefined;
  let cid: Buffer | undefined;
  let vendor: Buffer | undefined;
  for (let off = OPTIONS_OFFSET; off < buf.length; ) {
    const code = buf[off] as number;
    if (code === 0) {
      off++;
      continue;
    }
    if (code === 255) break;
    if (off + 1 >= buf.length) return undefined;
    const len = buf[off + 1] as number;
    const start = off + 2;
    const end = start + len;
    if (end > buf.length) return undefined;
    if (code === OVERLOAD) return undefined;
    if (code === OPTION.MESSAGE_TYPE) {
      if (type !== undefined || len !== 1) return undefined;
      type = buf[start];
    } else if (code === OPTION.CLIENT_ID) {
      if (cid !== undefined) return undefined;
      cid = buf.subarray(start, end);
    } else if (code === OPTION.VENDOR_CLASS) {
      if (vendor !== undefined) return undefined;
      vendor = buf.subarray(start, end);
    }
    off = end;
  }
  const text = cid === undefined ? undefined : textOf(cid);
  if (text !== undefined) {
    if (config.reservations.has(text)) return 0;
    if (config.topologies.has(text) && vendor !== undefined && vendor.toString('latin1') === config.vendorClass) return 0;
  }
  return type === MESSAGE_TYPE.DISCOVER ? 2 : undefined;
}
