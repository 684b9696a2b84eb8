import { inflateRawSync } from 'node:zlib';
import { implicitVr } from '../dict/dictionary.service.js';
import { DicomError, tagString } from '../errors/dicom.error.js';
import {
  type DicomElement,
  type DicomFragment,
  type DicomItem,
  type ParsedDicom,
  TAG_ITEM,
  TAG_ITEM_DELIM,
  TAG_PIXEL_DATA,
  TAG_SEQ_DELIM,
  UNDEFINED_LENGTH,
} from './dataset.model.js';
import { EXPLICIT_VR_LE, transferSyntaxOf } from './transfer-syntax.table.js';

export interface ParseOptions {
  /** Transfer syntax for bare datasets, or for Part 10 files whose meta lacks one. */
  transferSyntaxUid?: string;
  /** Cap on inflated size for deflated datasets (bytes). */
  maxInflatedBytes?: number;
  /** Nesting limit for sequences. */
  maxDepth?: number;
}

const KNOWN_VRS = new Set([
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FL',
  'FD',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
]);
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export function isLongVr(vr: string): boolean {
  return LONG_VRS.has(vr);
}

class Reader {
  constructor(
    readonly buf: Buffer,
    readonly maxDepth: number,
  ) {}

  u16(pos: number, le: boolean): number {
    return le ? this.buf.readUInt16LE(pos) : this.buf.readUInt16BE(pos);
  }

  u32(pos: number, le: boolean): number {
    return le ? this.buf.readUInt32LE(pos) : this.buf.readUInt32BE(pos);
  }

  tag(pos: number, le: boolean): number {
    return ((this.u16(pos, le) << 16) | this.u16(pos + 2, le)) >>> 0;
  }

  allZero(from: number, to: number): boolean {
    const b = this.buf;
    for (let i = from; i < to; i++) if (b[i] !== 0) return false;
    return true;
  }

  /**
   * Reads elements from `pos` up to `end`. With `inItem`, stops after an item delimiter.
   * Returns the elements and the position after them (after the delimiter if one was read).
   */
  elements(
    pos: number,
    end: number,
    le: boolean,
    explicit: boolean,
    depth: number,
    inUndefinedItem: boolean,
    topLevel: boolean,
  ): { elements: DicomElement[]; pos: number; delimited: boolean; trailingZeros: number } {
    const out: DicomElement[] = [];
    const buf = this.buf;
    while (pos < end) {
      if (topLevel && buf[pos] === 0 && this.allZero(pos, end)) {
        return { elements: out, pos: end, delimited: false, trailingZeros: end - pos };
      }
      if (end - pos < 8)
        throw new DicomError('TRUNCATED', 'element header runs past the end of the data', pos);
      const tag = this.tag(pos, le);
      if (tag >>> 16 === 0xfffe) {
        if (tag === TAG_ITEM_DELIM && inUndefinedItem) {
          return { elements: out, pos: pos + 8, delimited: true, trailingZeros: 0 };
        }
        throw new DicomError('BAD_STRUCTURE', `unexpected ${tagString(tag)} among data elements`, pos);
      }
      const el = this.element(pos, end, tag, le, explicit, depth);
      out.push(el);
      pos = el.end;
    }
    if (inUndefinedItem) throw new DicomError('TRUNCATED', 'item without its delimiter', pos);
    return { elements: out, pos, delimited: false, trailingZeros: 0 };
  }

  element(
    pos: number,
    end: number,
    tag: number,
    le: boolean,
    explicit: boolean,
    depth: number,
  ): DicomElement {
    const buf = this.buf;
    let vr: string;
    let length: number;
    let header: number;
    if (explicit) {
      const c0 = buf[pos + 4]!;
      const c1 = buf[pos + 5]!;
      vr = String.fromCharCode(c0, c1);
      if (!KNOWN_VRS.has(vr)) {
        throw new DicomError(
          'BAD_VR',
          `invalid VR bytes 0x${c0.toString(16)} 0x${c1.toString(16)} in ${tagString(tag)}`,
          pos,
        );
      }
      if (LONG_VRS.has(vr)) {
        if (end - pos < 12)
          throw new DicomError('TRUNCATED', 'element header runs past the end of the data', pos);
        length = this.u32(pos + 8, le);
        header = 12;
      } else {
        length = this.u16(pos + 6, le);
        header = 8;
      }
    } else {
      vr = implicitVr(tag);
      length = this.u32(pos + 4, le);
      header = 8;
    }
    const valueOffset = pos + header;
    const el: DicomElement = {
      tag,
      vr,
      explicitVr: explicit,
      littleEndian: le,
      offset: pos,
      valueOffset,
      length,
      valueLength: 0,
      end: 0,
    };
    if (length === UNDEFINED_LENGTH) {
      if (tag === TAG_PIXEL_DATA || vr === 'OB' || vr === 'OW') {
        if (tag !== TAG_PIXEL_DATA) {
          throw new DicomError('BAD_LENGTH', `undefined length on ${tagString(tag)}`, pos);
        }
        this.fragments(el, end, le);
        return el;
      }
      if (vr === 'SQ' || vr === 'UN') {
        // An undefined-length UN is a sequence encoded implicit VR little endian (PS3.5 6.2.2).
        const innerExplicit = vr === 'SQ' ? explicit : false;
        const innerLe = vr === 'SQ' ? le : true;
        if (vr === 'UN') el.vr = 'SQ';
        this.sequence(el, end, true, innerLe, innerExplicit, depth);
        return el;
      }
      throw new DicomError('BAD_LENGTH', `undefined length on ${tagString(tag)} with VR ${vr}`, pos);
    }
    if (valueOffset + length > end) {
      const code = end === this.buf.length ? 'TRUNCATED' : 'BAD_LENGTH';
      throw new DicomError(code, `value of ${tagString(tag)} (${length} bytes) runs past its container`, pos);
    }
    el.valueLength = length;
    el.end = valueOffset + length;
    if (vr === 'SQ') this.sequence(el, el.end, false, le, explicit, depth);
    else if (vr === 'UN' && explicit) {
      // Some writers label known attributes UN; read the value with the dictionary's VR.
      const known = implicitVr(tag);
      if (known !== 'UN' && known !== 'SQ') el.vr = known;
    }
    return el;
  }

  sequence(
    el: DicomElement,
    end: number,
    undefinedLen: boolean,
    le: boolean,
    explicit: boolean,
    depth: number,
  ): void {
    if (depth >= this.maxDepth)
      throw new DicomError('TOO_DEEP', `sequences nested deeper than ${this.maxDepth}`, el.offset);
    const items: DicomItem[] = [];
    let pos = el.valueOffset;
    for (;;) {
      if (!undefinedLen && pos >= end) break;
      if (end - pos < 8) throw new DicomError('TRUNCATED', 'sequence runs past the end of the data', pos);
      const tag = this.tag(pos, le);
      const length = this.u32(pos + 4, le);
      if (tag === TAG_SEQ_DELIM) {
        if (!undefinedLen)
          throw new DicomError('BAD_STRUCTURE', 'sequence delimiter in a defined-length sequence', pos);
        el.valueLength = pos - el.valueOffset;
        el.end = pos + 8;
        el.items = items;
        return;
      }
      if (tag !== TAG_ITEM)
        throw new DicomError('BAD_STRUCTURE', `expected an item in ${tagString(el.tag)}`, pos);
      const valueOffset = pos + 8;
      if (length === UNDEFINED_LENGTH) {
        const r = this.elements(valueOffset, end, le, explicit, depth + 1, true, false);
        items.push({ littleEndian: le, offset: pos, valueOffset, length, end: r.pos, elements: r.elements });
        pos = r.pos;
      } else {
        if (valueOffset + length > end) {
          const code = end === this.buf.length ? 'TRUNCATED' : 'BAD_LENGTH';
          throw new DicomError(code, `item of ${tagString(el.tag)} runs past its container`, pos);
        }
        const r = this.elements(valueOffset, valueOffset + length, le, explicit, depth + 1, false, false);
        items.push({
          littleEndian: le,
          offset: pos,
          valueOffset,
          length,
          end: valueOffset + length,
          elements: r.elements,
        });
        pos = valueOffset + length;
      }
    }
    el.items = items;
    if (pos !== end) throw new DicomError('BAD_LENGTH', `items overrun ${tagString(el.tag)}`, pos);
  }

  fragments(el: DicomElement, end: number, le: boolean): void {
    const frags: DicomFragment[] = [];
    let pos = el.valueOffset;
    for (;;) {
      if (end - pos < 8) throw new DicomError('TRUNCATED', 'encapsulated pixel data runs past the end', pos);
      const tag = this.tag(pos, le);
      const length = this.u32(pos + 4, le);
      if (tag === TAG_SEQ_DELIM) {
        el.valueLength = pos - el.valueOffset;
        el.end = pos + 8;
        el.fragments = frags;
        return;
      }
      if (tag !== TAG_ITEM || length === UNDEFINED_LENGTH) {
        throw new DicomError('BAD_STRUCTURE', 'bad fragment item in encapsulated pixel data', pos);
      }
      if (pos + 8 + length > end)
        throw new DicomError('TRUNCATED', 'pixel data fragment runs past the end', pos);
      frags.push({ offset: pos, valueOffset: pos + 8, length });
      pos += 8 + length;
    }
  }
}

function trimUid(b: Buffer): string {
  let e = b.length;
  while (e > 0 && (b[e - 1] === 0 || b[e - 1] === 0x20)) e--;
  let s = 0;
  while (s < e && b[s] === 0x20) s++;
  return b.toString('latin1', s, e);
}

/** Parses a Part 10 file, or a bare dataset when `opts.transferSyntaxUid` is given. */
export function parseDicom(bytes: Buffer, opts: ParseOptions = {}): ParsedDicom {
  if (!Buffer.isBuffer(bytes)) throw new DicomError('BAD_ARGUMENT', 'input must be a Buffer');
  const maxDepth = opts.maxDepth ?? 64;
  const reader = new Reader(bytes, maxDepth);
  let hasPreamble = false;
  let metaStart = -1;
  if (bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM') {
    hasPreamble = true;
    metaStart = 132;
  } else if (
    bytes.length >= 8 &&
    bytes.readUInt16LE(0) === 0x0002 &&
    bytes.toString('latin1', 4, 6) === 'UL'
  ) {
    metaStart = 0;
  }
  let meta: DicomElement[] = [];
  let metaEnd = 0;
  let tsUid = opts.transferSyntaxUid;
  if (metaStart >= 0) {
    let pos = metaStart;
    while (pos < bytes.length) {
      if (bytes.length - pos < 2 || bytes.readUInt16LE(pos) !== 0x0002) break;
      if (bytes.length - pos < 8) throw new DicomError('TRUNCATED', 'file meta runs past the end', pos);
      const el = reader.element(pos, bytes.length, reader.tag(pos, true), true, true, 0);
      meta.push(el);
      pos = el.end;
    }
    metaEnd = pos;
    const ts = meta.find((e) => e.tag === 0x00020010);
    if (ts && ts.valueLength > 0) tsUid = trimUid(bytes.subarray(ts.valueOffset, ts.end));
    if (!tsUid) throw new DicomError('MISSING_META', 'file meta has no TransferSyntaxUID');
  } else if (!tsUid) {
    throw new DicomError(
      'MISSING_META',
      'no Part 10 header (preamble/DICM or group 0002) and no transfer syntax given',
    );
  } else {
    meta = [];
  }
  const transferSyntax = transferSyntaxOf(tsUid);
  let data = bytes;
  let datasetStart = metaEnd;
  if (transferSyntax.deflated) {
    try {
      data = inflateRawSync(bytes.subarray(metaEnd), { maxOutputLength: opts.maxInflatedBytes ?? 1 << 30 });
    } catch {
      throw new DicomError('BAD_DEFLATE', 'deflated dataset does not inflate', metaEnd);
    }
    datasetStart = 0;
  }
  const r = new Reader(data, maxDepth).elements(
    datasetStart,
    data.length,
    transferSyntax.littleEndian,
    transferSyntax.explicitVr,
    0,
    false,
    true,
  );
  return {
    source: bytes,
    part10: metaStart >= 0,
    hasPreamble,
    meta,
    metaEnd,
    transferSyntax,
    data,
    datasetStart,
    datasetEnd: data.length,
    elements: r.elements,
    trailingZeros: r.trailingZeros,
  };
}

export { EXPLICIT_VR_LE };
