// A plain, JSON-safe picture of a message: for structured logs, test comparisons and debugging.
// Buffers become colon hex, options keep their wire order.

import { colonHex } from './codec.js';
import type { DhcpMessage } from './message.js';
import { optionName } from './option-table.js';

export interface OptionJSON {
  code: number;
  name: string;
  value: string | number | string[] | number[];
}

export interface MessageJSON {
  op: number;
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: string;
  sname: string;
  file: string;
  options: OptionJSON[];
}

export function messageToJSON(msg: DhcpMessage): MessageJSON {
  const options: OptionJSON[] = [];
  for (const [code, value] of msg.options) {
    options.push({ code, name: optionName(code), value: Buffer.isBuffer(value) ? colonHex(value) : value });
  }
  return {
    op: msg.op, htype: msg.htype, hops: msg.hops, xid: msg.xid, secs: msg.secs, flags: msg.flags,
    ciaddr: msg.ciaddr, yiaddr: msg.yiaddr, siaddr: msg.siaddr, giaddr: msg.giaddr,
    chaddr: colonHex(msg.chaddr), sname: msg.sname, file: msg.file, options,
  };
}
