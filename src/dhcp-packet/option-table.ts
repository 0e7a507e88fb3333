// The one place that says which options rackstrap understands and how their data reads.
// The TypeScript type of every option value is derived from this table; an option code not in
// it is kept as raw bytes, in the order it came.

import { bytes, decodeFail, encodeFail, ipv4, ipv4List, text, uint16, uint32, uint8, uint8List, type Codec } from './codec.js';
import { isMessageType, type MessageType } from './constants.js';

/** Option codes (RFC 2132 sections noted; 82 is RFC 3046). */
export const OPTION = {
  SUBNET_MASK: 1, // §3.3
  ROUTERS: 3, // §3.5
  DNS_SERVERS: 6, // §3.8
  HOSTNAME: 12, // §3.14
  DOMAIN_NAME: 15, // §3.17
  BROADCAST_ADDRESS: 28, // §5.3
  NTP_SERVERS: 42, // §8.3
  VENDOR_SPECIFIC: 43, // §8.4, vendor-encapsulated options: rackstrap's topology objects
  REQUESTED_ADDRESS: 50, // §9.1
  LEASE_TIME: 51, // §9.2
  OVERLOAD: 52, // §9.3, written and consumed by the codec itself, never by callers
  MESSAGE_TYPE: 53, // §9.6
  SERVER_ID: 54, // §9.7
  PARAMETER_REQUEST_LIST: 55, // §9.8
  MESSAGE: 56, // §9.9
  MAX_MESSAGE_SIZE: 57, // §9.10
  RENEWAL_TIME: 58, // §9.11, T1
  REBINDING_TIME: 59, // §9.12, T2
  VENDOR_CLASS: 60, // §9.13
  CLIENT_ID: 61, // §9.14
  RELAY_AGENT_INFO: 82, // RFC 3046: opaque here, echoed by servers as received
} as const;

/** Lease, T1 and T2 value meaning "never expires" (RFC 2131 §3.3). */
export const INFINITE_LEASE = 0xffffffff;

/** Message type: one byte, one of the registered types. */
const messageType: Codec<MessageType> = {
  encodingLength(v) {
    if (!isMessageType(v)) encodeFail(`${String(v)} is not a DHCP message type`);
    return 1;
  },
  encode: (v, buf, off) => uint8.encode(v, buf, off),
  decode(buf, off, end, ctx) {
    const at = ctx?.at ?? off;
    if (end - off !== 1) decodeFail('bad-message-type', `option 53 (message-type): length ${end - off}, expected 1`, at);
    const v = buf[off] as number;
    if (!isMessageType(v)) decodeFail('bad-message-type', `option 53 (message-type): ${v} is not a DHCP message type`, at);
    return { value: v, off: off + 1 };
  },
};

interface OptionSpec<T> {
  readonly name: string;
  readonly codec: Codec<T>;
}

function spec<T>(name: string, codec: Codec<T>): OptionSpec<T> {
  return { name, codec };
}

export const KNOWN_OPTIONS = {
  [OPTION.SUBNET_MASK]: spec('subnet-mask', ipv4),
  [OPTION.ROUTERS]: spec('routers', ipv4List),
  [OPTION.DNS_SERVERS]: spec('dns-servers', ipv4List),
  [OPTION.HOSTNAME]: spec('hostname', text),
  [OPTION.DOMAIN_NAME]: spec('domain-name', text),
  [OPTION.BROADCAST_ADDRESS]: spec('broadcast-address', ipv4),
  [OPTION.NTP_SERVERS]: spec('ntp-servers', ipv4List),
  [OPTION.VENDOR_SPECIFIC]: spec('vendor-specific', bytes),
  [OPTION.REQUESTED_ADDRESS]: spec('requested-address', ipv4),
  [OPTION.LEASE_TIME]: spec('lease-time', uint32),
  [OPTION.MESSAGE_TYPE]: spec('message-type', messageType),
  [OPTION.SERVER_ID]: spec('server-id', ipv4),
  [OPTION.PARAMETER_REQUEST_LIST]: spec('parameter-request-list', uint8List),
  [OPTION.MESSAGE]: spec('message', text),
  [OPTION.MAX_MESSAGE_SIZE]: spec('max-message-size', uint16),
  [OPTION.RENEWAL_TIME]: spec('renewal-time', uint32),
  [OPTION.REBINDING_TIME]: spec('rebinding-time', uint32),
  [OPTION.VENDOR_CLASS]: spec('vendor-class', text),
  [OPTION.CLIENT_ID]: spec('client-id', bytes),
  [OPTION.RELAY_AGENT_INFO]: spec('relay-agent-info', bytes),
} as const;

export type KnownOptionCode = keyof typeof KNOWN_OPTIONS;
type ValueOfSpec<S> = S extends OptionSpec<infer T> ? T : never;
/** Any value an option can hold: a typed value for a known code, raw bytes otherwise. */
export type AnyOptionValue = ValueOfSpec<(typeof KNOWN_OPTIONS)[KnownOptionCode]> | Buffer;
/**
 * The value type of option `C`: `options.get(OPTION.LEASE_TIME)` is a number, `get(OPTION.ROUTERS)`
 * a string[], `get(200)` a Buffer; with a code only known at run time, any of them.
 */
export type OptionValue<C extends number> = number extends C
  ? AnyOptionValue
  : C extends KnownOptionCode
    ? ValueOfSpec<(typeof KNOWN_OPTIONS)[C]>
    : Buffer;

const RAW: OptionSpec<Buffer> = spec('', bytes);
const TABLE = new Map<number, OptionSpec<unknown>>(
  Object.entries(KNOWN_OPTIONS).map(([code, s]) => [Number(code), s as OptionSpec<unknown>]),
);

/** Codec for option `code`: its typed codec when known, raw bytes otherwise. */
export function optionCodec(code: number): Codec<unknown> {
  return (TABLE.get(code) ?? RAW).codec as Codec<unknown>;
}

export function isKnownOption(code: number): code is KnownOptionCode {
  return TABLE.has(code);
}

/** `lease-time`, `client-id`, ... or `option-N` for a code outside the table. */
export function optionName(code: number): string {
  return TABLE.get(code)?.name ?? `option-${code}`;
}
