// The topology wire format: one filer's Topology in DHCP option 43 (docs/wire-format.md).
export {
  encodeTopology,
  topologyWireSize,
  exchangeSigner,
  exchangeTemplate,
  signForExchange,
  type EncodeOptions,
  type WireSizeOptions,
  type ExchangeTemplate,
} from './encode.js';
export { addressTag, hasAddressTag, firstOnLinkRouter, TAGS_PER_OBJECT, type AddressFacts } from './address-tags.js';
export type { RequestBinding } from './signature.js';
export { decodeTopology, type DecodeInput, type DecodeOptions, type DecodedTopology } from './decode.js';
export { parseSubOptions, subOptionsToBytes, joinOption43, subOptionSize, type SubOption } from './sub-options.js';
export { keyFingerprint, canonicalBytes } from './signature.js';
export { normalizeTopology, naturalCompare, compareMysqlRoles } from './normalize.js';
export { subOptionsFromDhclientEnv, option43FromDhclientEnv, unescapeDhclientText, DHCLIENT_OPTION_PREFIX } from './dhclient.js';
export {
  WireDecodeError,
  WireVersionError,
  WireEncodeError,
  ObjectTooLongError,
  WireKeyError,
  type WireDecodeCode,
  type WireEncodeCode,
} from './errors.js';
export {
  OPTION43_BUDGET,
  OPTION43_BUDGET_WITHOUT_MMS,
  MAX_OBJECT_BYTES,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  HEADER_CODE,
  SIGNATURE_CODE,
  FIRST_OBJECT_CODE,
  LAST_OBJECT_CODE,
} from './constants.js';
