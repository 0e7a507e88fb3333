// Errors of the topology wire format (docs/wire-format.md). Every rejection has its own stable
// code so the agent can log it, tests can assert it, and the cache logic can tell "refuse and keep
// what we have" (all of them) from "this reader is too old" (WireVersionError).
import { DecodeError, RackstrapError } from '../../../src/errors.js';

/** Why a received option 43 payload was refused. */
export type WireDecodeCode =
  /** A sub-option code byte with no length byte after it. */
  | 'RS_WIRE_TRUNCATED'
  /** A sub-option's length runs past the end of option 43. */
  | 'RS_WIRE_LENGTH'
  /** A sub-option longer than 253 bytes (no supported server sends one; dnsmasq refuses them). */
  | 'RS_WIRE_OVERLONG'
  /** The same sub-option code twice (dnsmasq sends both when configured twice). */
  | 'RS_WIRE_DUPLICATE_CODE'
  /** No sub-option 1, or sub-option 1 is not a rackstrap header (someone else's option 43). */
  | 'RS_WIRE_NO_HEADER'
  /** The header's count differs from the number of sub-options received: one was dropped or added. */
  | 'RS_WIRE_COUNT'
  /** A byte outside the object alphabet. */
  | 'RS_WIRE_ILLEGAL_BYTE'
  /** Tokens that do not follow the object grammar. */
  | 'RS_WIRE_GRAMMAR'
  /** The header's major version is not one this reader understands. */
  | 'RS_WIRE_VERSION'
  /** An attribute this reader does not know and that is not marked optional with `~`. */
  | 'RS_WIRE_UNKNOWN_ATTRIBUTE'
  /** An object kind this reader does not know and that is not marked optional with `~`. */
  | 'RS_WIRE_UNKNOWN_OBJECT'
  /** A required attribute is absent (a bond without mode=, ...). */
  | 'RS_WIRE_MISSING_ATTRIBUTE'
  /** The same attribute twice in one object. */
  | 'RS_WIRE_DUPLICATE_ATTRIBUTE'
  /** Two objects describe the same interface, virtual server or MySQL role. */
  | 'RS_WIRE_DUPLICATE_NAME'
  /** A header or signature away from codes 1/2, or something else at codes 1/2. */
  | 'RS_WIRE_MISPLACED'
  /** A signature is required and there is none. */
  | 'RS_WIRE_UNSIGNED'
  /** Signed with a different key than ours (by its fingerprint). */
  | 'RS_WIRE_KEY_MISMATCH'
  /** The MAC does not match the objects. */
  | 'RS_WIRE_BAD_SIGNATURE'
  /** The decoded topology breaks the zod schema (ranges, enums, ...). */
  | 'RS_WIRE_SCHEMA'
  /** The topology names another filer than the one asking. */
  | 'RS_WIRE_WRONG_FILER';

/** A refused option 43 payload. `code` says which rule; the message names the sub-option. */
export class WireDecodeError extends DecodeError {
  override readonly code: WireDecodeCode;
  constructor(code: WireDecodeCode, message: string, offset?: number, options?: { cause?: unknown }) {
    super(message, offset, options);
    this.code = code;
  }
}

/**
 * The topology was written by an incompatible (normally newer) major version. The caller keeps
 * the configuration it has (IPVS sync v0 backups drop v1 messages the same way — seed 001).
 */
export class WireVersionError extends WireDecodeError {
  readonly major: number;
  readonly minor: number;
  constructor(major: number, minor: number, supportedMajor: number) {
    super(
      'RS_WIRE_VERSION',
      `topology format ${major}.${minor} is not readable by this reader (major ${supportedMajor}); keeping the current configuration`,
    );
    this.major = major;
    this.minor = minor;
  }
}

export type WireEncodeCode =
  /** One object would be longer than 253 bytes. */
  | 'RS_WIRE_OBJECT_TOO_LONG'
  /** More objects than sub-option codes 3..254. */
  | 'RS_WIRE_TOO_MANY_OBJECTS'
  /** The topology holds something the format cannot carry faithfully (a name outside the grammar, ...). */
  | 'RS_WIRE_UNREPRESENTABLE'
  /** The topology breaks the zod schema, so a reader would refuse it. */
  | 'RS_WIRE_SCHEMA';

/** A topology that cannot be put on the wire; raised by the writer, before any server sees it. */
export class WireEncodeError extends RackstrapError {
  override readonly code: WireEncodeCode;
  constructor(code: WireEncodeCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.code = code;
  }
}

/** One object exceeds a sub-option; carries the object's name and size for the generator's message. */
export class ObjectTooLongError extends WireEncodeError {
  readonly object: string;
  readonly size: number;
  constructor(object: string, size: number, limit: number) {
    super('RS_WIRE_OBJECT_TOO_LONG', `topology object "${object}" is ${size} bytes; a sub-option holds at most ${limit}`);
    this.object = object;
    this.size = size;
  }
}

/** A key problem on the caller's side (too short, or a signature required without a key). */
export class WireKeyError extends RackstrapError {
  override readonly code: 'RS_WIRE_KEY_TOO_SHORT' | 'RS_WIRE_NO_KEY';
  constructor(code: 'RS_WIRE_KEY_TOO_SHORT' | 'RS_WIRE_NO_KEY', message: string) {
    super(code, message);
    this.code = code;
  }
}
