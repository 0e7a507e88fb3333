// Public face of rackstrap's DHCPv4 client (RFC 2131). The agent imports from here only.

export { DhcpClient, openDhcpClient, type DhcpClientOptions, type OpenDhcpClientOptions, type ClientEvents } from './client.js';
export { requestTopology, type TopologyRequestOptions, type TopologyOffer } from './topology-request.js';
export { DhcpLease, leaseFromAck, maskToPrefix, broadcastOf, classfulPrefix } from './lease.js';
export {
  TransportPool, defaultTransportPool, InterfaceTransport, openClientEndpoint,
  type Transport, type SharedTransport, type TransportStats, type ReplySubscriber, type ReplySource, type DatagramEndpoint,
  type EndpointOpener, type HardwareAddress,
} from './transport.js';
export { systemClock, secureRandom, type Clock, type Timer } from './clock.js';
export { silentLog, type LogFn, type LogLevel } from './log.js';
export {
  RFC_TIMING, resolveTiming, retransmitDelay, leaseTimers, defaultRenewalTime, defaultRebindingTime, renewRetransmitDelay,
  type TimingConfig,
} from './timing.js';
export { PARAMETER_REQUEST_LIST, MAX_MESSAGE_SIZE } from './messages.js';
export type { ClientState } from './machine.js';
