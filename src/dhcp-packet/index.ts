// Public face of the DHCPv4 packet codec (RFC 2131, RFC 2132, RFC 3396). Server and client
// import from here only.

export {
  SERVER_PORT, CLIENT_PORT, OP, HTYPE_ETHERNET, BROADCAST_FLAG, MAGIC_COOKIE, MIN_MAX_MESSAGE_SIZE, IP_UDP_OVERHEAD,
  MESSAGE_TYPE, isMessageType, messageTypeName,
  type Op, type MessageType, type MessageTypeName,
} from './constants.js';
export { OPTION, INFINITE_LEASE, KNOWN_OPTIONS, optionName, isKnownOption, type KnownOptionCode, type OptionValue, type AnyOptionValue } from './option-table.js';
export { DhcpOptions, type OptionEntry } from './options.js';
export type { BootpHeader } from './header.js';
export {
  decodeMessage, encodeMessage, encodingLength, messageCodec, createMessage, messageType, maxMessageSize, isBroadcast, hardwareAddress,
  type DhcpMessage, type EncodeOptions, type MessageInit,
} from './message.js';
export { parseClientId, clientIdText, formatClientId, textClientId, clientIdOf, CLIENT_ID_TYPE_TEXT, type ClientId } from './client-id.js';
export { messageToJSON, type MessageJSON, type OptionJSON } from './describe.js';
export { parseIPv4, colonHex, type Codec, type DecodeReason } from './codec.js';
