// A frozen copy of the format 1.0 reader and writer (src/options/wire as released with minor 0),
// so tests can prove what "compatible" means: a 1.0 agent reads what this version writes, and this
// version reads what 1.0 wrote. Only the imports outside the wire folder were repointed. Never edit.
// The topology wire format: one filer's Topology in DHCP option 43 (docs/wire-format.md).
export { encodeTopology, topologyWireSize, type EncodeOptions, type WireSizeOptions } from './encode.js';
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
