import { isLongVr } from './parse.service.js';

export interface Encoding {
  littleEndian: boolean;
  explicitVr: boolean;
}

/** Pads a value to even length the way PS3.5 6.2 requires for its VR. */
export function padValue(vr: string, value: Buffer): Buffer {
  if ((value.length & 1) === 0) return value;
  const pad = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0 : 0x20;
  const out = Buffer.allocUnsafe(value.length + 1);
  value.copy(out);
  out[value.length] = pad;
  return out;
}

export function headerLength(vr: string, enc: Encoding): number {
  return enc.explicitVr && !isLongVr(vr) ? 8 : enc.explicitVr ? 12 : 8;
}

/** Encodes one element header followed by its (already padded) value. */
export function encodeElement(tag: number, vr: string, value: Buffer, enc: Encoding): Buffer {
  const len = value.length;
  const hl = headerLength(vr, enc);
  const out = Buffer.allocUnsafe(hl + len);
  writeHeader(out, 0, tag, vr, len, enc);
  value.copy(out, hl);
  return out;
}

export function writeHeader(
  out: Buffer,
  pos: number,
  tag: number,
  vr: string,
  len: number,
  enc: Encoding,
): number {
  const le = enc.littleEndian;
  const g = tag >>> 16;
  const e = tag & 0xffff;
  if (le) {
    out.writeUInt16LE(g, pos);
    out.writeUInt16LE(e, pos + 2);
  } else {
    out.writeUInt16BE(g, pos);
    out.writeUInt16BE(e, pos + 2);
  }
  if (!enc.explicitVr) {
    if (le) out.writeUInt32LE(len >>> 0, pos + 4);
    else out.writeUInt32BE(len >>> 0, pos + 4);
    return pos + 8;
  }
  out.write(vr, pos + 4, 'latin1');
  if (isLongVr(vr)) {
    out.writeUInt16LE(0, pos + 6);
    if (le) out.writeUInt32LE(len >>> 0, pos + 8);
    else out.writeUInt32BE(len >>> 0, pos + 8);
    return pos + 12;
  }
  if (len > 0xffff) throw new RangeError('value too long for a 16-bit length');
  if (le) out.writeUInt16LE(len, pos + 6);
  else out.writeUInt16BE(len, pos + 6);
  return pos + 8;
}

export function encodeU32(n: number, le: boolean): Buffer {
  const b = Buffer.allocUnsafe(4);
  if (le) b.writeUInt32LE(n >>> 0, 0);
  else b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** An item (FFFE,E000) with defined length wrapping encoded elements. */
export function encodeItem(content: Buffer, le: boolean): Buffer {
  const out = Buffer.allocUnsafe(8 + content.length);
  if (le) {
    out.writeUInt16LE(0xfffe, 0);
    out.writeUInt16LE(0xe000, 2);
    out.writeUInt32LE(content.length, 4);
  } else {
    out.writeUInt16BE(0xfffe, 0);
    out.writeUInt16BE(0xe000, 2);
    out.writeUInt32BE(content.length, 4);
  }
  content.copy(out, 8);
  return out;
}

export function textValue(vr: string, s: string): Buffer {
  return padValue(vr, Buffer.from(s, 'latin1'));
}

export interface SimpleElement {
  tag: number;
  vr: string;
  value: Buffer | string | SimpleElement[][];
}

/** Encodes a list of elements (sequences as arrays of items) in the given encoding, defined lengths throughout. */
export function encodeElements(elements: readonly SimpleElement[], enc: Encoding): Buffer {
  const parts: Buffer[] = [];
  for (const el of elements) {
    if (Array.isArray(el.value)) {
      const items = el.value.map((item) => encodeItem(encodeElements(item, enc), enc.littleEndian));
      parts.push(encodeElement(el.tag, 'SQ', Buffer.concat(items), enc));
    } else {
      const v = typeof el.value === 'string' ? textValue(el.vr, el.value) : padValue(el.vr, el.value);
      parts.push(encodeElement(el.tag, el.vr, v, enc));
    }
  }
  return Buffer.concat(parts);
}
