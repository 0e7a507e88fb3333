// What a filer holding the cluster key takes from DHCP (format 1.1 address tags): an OFFER or ACK
// for one of its identifiers must offer exactly what the signed topology vouches for — the
// address, its prefix length and the router the agent would take from it — and a broadcast
// address, when one is sent, that belongs to that subnet. Anything else is refused and reported:
// a second DHCP server on the LAN (rogue or misconfigured) cannot give a keyed filer an address or
// a default route. Pure.
import { classfulPrefix, broadcastOf, maskToPrefix } from '../dhcp-client/index.js';
import { OPTION, type DhcpMessage } from '../dhcp-packet/index.js';
import { firstOnLinkRouter, hasAddressTag } from '../options/wire/index.js';

/** A reply's reason to be refused for `identifier`, or undefined when the signed topology vouches for it. */
export type ReplyVerifier = (reply: DhcpMessage) => string | undefined;

export function offerVerifier(key: Buffer, tags: ReadonlySet<string>, identifier: string): ReplyVerifier {
  return (reply) => {
    const address = reply.yiaddr;
    const mask = reply.options.get(OPTION.SUBNET_MASK);
    const prefixLength = mask === undefined ? classfulPrefix(address) : maskToPrefix(mask);
    if (prefixLength === undefined) return `subnet mask ${mask} is not contiguous`;
    const routers = reply.options.get(OPTION.ROUTERS) ?? [];
    const router = firstOnLinkRouter(address, prefixLength, routers);
    const broadcast = reply.options.get(OPTION.BROADCAST_ADDRESS);
    if (!hasAddressTag(key, tags, { identifier, address, prefixLength, router })) {
      return `${address}/${prefixLength}${router === undefined ? ' without a router' : ` via ${router}`} is not what the signed topology reserves for ${identifier}`;
    }
    if (broadcast !== undefined && broadcast !== broadcastOf(address, prefixLength)) {
      return `broadcast ${broadcast} is not the broadcast address of ${address}/${prefixLength}`;
    }
    return undefined;
  };
}
