// Numbers of the topology wire format (docs/wire-format.md). Protocol constants cite their source.

/** RFC 2132 §8.4: option 43, vendor-specific information, carrying our encapsulated sub-options. */
export const OPTION_VENDOR_ENCAPSULATED = 43;
/** RFC 2132 §3.1: pad; also skipped inside option 43. */
export const PAD = 0x00;
/** RFC 2132 §3.2 / §8.4: end; inside option 43 it ends the encapsulated options (dnsmasq appends one). */
export const END = 0xff;

/**
 * Largest object (sub-option value) we write or accept. A 1-byte length allows 255, but dnsmasq
 * refuses values over 253 at load, dhcpd silently corrupts values over 255 and Kea splits them
 * into repeated codes (shared/notes/dhcp-servers.md). 253 is the value every server carries intact.
 */
export const MAX_OBJECT_BYTES = 253;

/** Sub-option codes: 1 header, 2 signature, 3..254 one object each (0 and 255 are pad/end). */
export const HEADER_CODE = 1;
export const SIGNATURE_CODE = 2;
export const FIRST_OBJECT_CODE = 3;
export const LAST_OBJECT_CODE = 254;

/** First token of the header: `rackstrap/<major>.<minor>`. Never changes across majors. */
export const FORMAT_NAME = 'rackstrap';
/** A reader refuses any other major; a newer minor only adds `~`-optional things, so it is read. */
export const FORMAT_MAJOR = 1;
/**
 * 1.1 added, all optional so a 1.0 reader skips them: a virtual server's gateway (`~gw=`), the
 * address tags (`~addr` objects) and the request binding in the signature (`~to=` / `~xid=`).
 */
export const FORMAT_MINOR = 1;

/**
 * Largest option 43 payload to generate (topologyWireSize). Measured on this machine with Debian's
 * dhcpd 4.4.3, Kea 2.2 and dnsmasq 2.90, a client sending option 57 = 1500 and a scope with mask,
 * router, domain, DNS and NTP: all three delivered 998 bytes intact (Kea also 1048); at 1148
 * dhcpd and dnsmasq still did but Kea failed to send (EMSGSIZE: it never splits a reply and the
 * frame passed the 1500-byte MTU). Needs option 57.
 */
export const OPTION43_BUDGET = 1000;

/**
 * Without option 57 replies are limited to 576 bytes (RFC 2131 §2) and the servers differ
 * (measured as above): dhcpd dropped option 43 entirely, with no log, above 438 bytes (above 460
 * with only mask and router); dnsmasq cut option 43 at a sub-option boundary to at most 252 bytes,
 * and since it sends sub-options in reverse order the header was lost; Kea ignored the limit.
 * So clients must send option 57 (rackstrap's agent and the reference dhclient.conf do); these
 * figures are what is left when one does not.
 */
export const OPTION43_BUDGET_WITHOUT_MMS = { dhcpd: 430, dnsmasq: 250 } as const;

/** Signature algorithm token: HMAC-SHA-256 truncated to 128 bits (RFC 2104 §5, FIPS 198-1 §4; RFC 4868's HMAC-SHA-256-128). */
export const SIGNATURE_ALGORITHM = 'hmac-sha256-128';
/** Bytes of the MAC kept: the leftmost 16 (128 bits), as RFC 4868's HMAC-SHA-256-128 does. */
export const MAC_BYTES = 16;
/** Hex digits of the key fingerprint (first 4 bytes of SHA-256 of the key). */
export const KEY_ID_HEX = 8;
/** A key shorter than this is refused (RFC 2104 §3 discourages keys shorter than the output; we ask 16). */
export const MIN_KEY_BYTES = 16;

/**
 * Bytes kept of an address tag's HMAC: 48 bits, 8 base64url characters. A forger cannot compute
 * tags offline (they are keyed), so each guess costs one OFFER on the wire: 2^47 OFFERs on
 * average per identifier, years at any rate a LAN carries.
 */
export const ADDRESS_TAG_BYTES = 6;
/** Characters of one address tag on the wire (base64url of ADDRESS_TAG_BYTES, no padding). */
export const ADDRESS_TAG_CHARS = 8;
