import { PduError } from './pdu.js';

/** DIMSE command set (PS3.7 section 9.3 and 10.3), always implicit VR little endian. */
export interface Command {
  commandField: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  moveDestination?: string;
  priority?: number;
  /** 0x0101 means no dataset follows. */
  dataSetType: number;
  status?: number;
  errorComment?: string;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
  moveOriginatorAe?: string;
  moveOriginatorMessageId?: number;
}

export const NO_DATASET = 0x0101;
export const HAS_DATASET = 0x0000;

export const C_STORE_RQ = 0x0001;
export const C_STORE_RSP = 0x8001;
export const C_GET_RQ = 0x0010;
export const C_GET_RSP = 0x8010;
export const C_FIND_RQ = 0x0020;
export const C_FIND_RSP = 0x8020;
export const C_MOVE_RQ = 0x0021;
export const C_MOVE_RSP = 0x8021;
export const C_ECHO_RQ = 0x0030;
export const C_ECHO_RSP = 0x8030;
export const C_CANCEL_RQ = 0x0fff;

type Kind = 'UI' | 'US' | 'AE' | 'LO';
const FIELDS: [number, keyof Command, Kind][] = [
  [0x00000002, 'affectedSopClassUid', 'UI'],
  [0x00000003, 'requestedSopClassUid', 'UI'],
  [0x00000100, 'commandField', 'US'],
  [0x00000110, 'messageId', 'US'],
  [0x00000120, 'messageIdBeingRespondedTo', 'US'],
  [0x00000600, 'moveDestination', 'AE'],
  [0x00000700, 'priority', 'US'],
  [0x00000800, 'dataSetType', 'US'],
  [0x00000900, 'status', 'US'],
  [0x00000902, 'errorComment', 'LO'],
  [0x00001000, 'affectedSopInstanceUid', 'UI'],
  [0x00001001, 'requestedSopInstanceUid', 'UI'],
  [0x00001020, 'remaining', 'US'],
  [0x00001021, 'completed', 'US'],
  [0x00001022, 'failed', 'US'],
  [0x00001023, 'warning', 'US'],
  [0x00001030, 'moveOriginatorAe', 'AE'],
  [0x00001031, 'moveOriginatorMessageId', 'US'],
];
const BY_TAG = new Map(FIELDS.map((f) => [f[0], f]));

function element(tag: number, value: Buffer): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16LE(tag >>> 16, 0);
  h.writeUInt16LE(tag & 0xffff, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

export function encodeCommand(cmd: Command): Buffer {
  const parts: Buffer[] = [];
  for (const [tag, key, kind] of FIELDS) {
    const v = cmd[key];
    if (v === undefined) continue;
    let value: Buffer;
    if (kind === 'US') {
      value = Buffer.allocUnsafe(2);
      value.writeUInt16LE(Number(v) & 0xffff, 0);
    } else {
      value = Buffer.from(String(v), 'latin1');
      if (value.length & 1) value = Buffer.concat([value, Buffer.from([kind === 'UI' ? 0 : 0x20])]);
    }
    parts.push(element(tag, value));
  }
  const body = Buffer.concat(parts);
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(body.length, 0);
  return Buffer.concat([element(0x00000000, len), body]);
}

export function decodeCommand(buf: Buffer): Command {
  const cmd: Record<string, string | number> = {};
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 8 > buf.length) throw new PduError('command element header runs past the end');
    const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
    const len = buf.readUInt32LE(pos + 4);
    if (pos + 8 + len > buf.length) throw new PduError('command element runs past the end');
    const f = BY_TAG.get(tag);
    if (f) {
      const v = buf.subarray(pos + 8, pos + 8 + len);
      if (f[2] === 'US') {
        if (len !== 2) throw new PduError('bad US length in command');
        cmd[f[1]] = v.readUInt16LE(0);
      } else
        cmd[f[1]] = v
          .toString('latin1')
          .replace(/[\0 ]+$/, '')
          .replace(/^ +/, '');
    }
    pos += 8 + len;
  }
  if (typeof cmd.commandField !== 'number') throw new PduError('command without CommandField');
  if (typeof cmd.dataSetType !== 'number') cmd.dataSetType = NO_DATASET;
  return cmd as unknown as Command;
}
