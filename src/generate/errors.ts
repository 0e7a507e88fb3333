// Why a configuration was not generated. Each is a RackstrapError, so the CLI prints the message
// (advice for the admin) and exits 1; nothing is written when one is thrown.
import { RackstrapError } from '../errors.js';

/** A filer's topology would not reach its filers intact through this DHCP server. */
export class TopologyTooBigError extends RackstrapError {
  readonly server: string;
  readonly filer: string;
  /** Option 43 payload bytes of the filer's topology. */
  readonly size: number;
  /** Largest payload the server delivers intact on that subnet. */
  readonly limit: number;
  readonly subnet: string;
  constructor(server: string, filer: string, size: number, limit: number, subnet: string, failure: string) {
    super(
      'RS_GEN_TOO_BIG',
      `${filer}: topology is ${size} bytes of option 43, over the ${limit} bytes ${server} delivers intact on ${subnet} ` +
        `(past that it ${failure}); not generated. Give ${filer} fewer objects (fewer virtual servers or MySQL roles ` +
        'homed there, shorter names) or fewer DHCP options on that subnet.',
    );
    this.server = server;
    this.filer = filer;
    this.size = size;
    this.limit = limit;
    this.subnet = subnet;
  }
}

/** The description holds something a target cannot express (and the generator will not guess). */
export class GenerateError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_GEN', message, options);
  }
}
