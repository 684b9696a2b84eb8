import { decodeText, parseCharsets } from './charset.decoder.js';
import type { DicomElement, ParsedDicom } from './dataset.model.js';

export const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
/** Text VRs whose value may carry the Specific Character Set's extended characters. */
export const CHARSET_VRS = new Set(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);

export function valueBytes(data: Buffer, el: DicomElement): Buffer {
  return data.subarray(el.valueOffset, el.valueOffset + el.valueLength);
}

export function findElement(elements: readonly DicomElement[], tag: number): DicomElement | undefined {
  for (const e of elements) if (e.tag === tag) return e;
  return undefined;
}

/** Text with trailing padding (spaces, NULs) removed; leading spaces removed except for free-text VRs. */
export function readString(data: Buffer, el: DicomElement, charsets: readonly string[] = []): string {
  let end = el.valueOffset + el.valueLength;
  let start = el.valueOffset;
  while (end > start && (data[end - 1] === 0x20 || data[end - 1] === 0)) end--;
  if (el.vr !== 'LT' && el.vr !== 'ST' && el.vr !== 'UT') while (start < end && data[start] === 0x20) start++;
  const bytes = data.subarray(start, end);
  if (!CHARSET_VRS.has(el.vr)) return bytes.toString('latin1');
  return decodeText(bytes, charsets);
}

export function charsetsOf(
  data: Buffer,
  elements: readonly DicomElement[],
  inherited: readonly string[],
): string[] {
  const cs = findElement(elements, 0x00080005);
  if (!cs) return inherited as string[];
  return parseCharsets(readString(data, cs));
}

export function readNumbers(data: Buffer, el: DicomElement): number[] {
  const le = el.littleEndian;
  const out: number[] = [];
  const v = valueBytes(data, el);
  const step: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, SV: 8, UV: 8 };
  const n = step[el.vr];
  if (!n) return out;
  for (let i = 0; i + n <= v.length; i += n) {
    switch (el.vr) {
      case 'US':
        out.push(le ? v.readUInt16LE(i) : v.readUInt16BE(i));
        break;
      case 'SS':
        out.push(le ? v.readInt16LE(i) : v.readInt16BE(i));
        break;
      case 'UL':
        out.push(le ? v.readUInt32LE(i) : v.readUInt32BE(i));
        break;
      case 'SL':
        out.push(le ? v.readInt32LE(i) : v.readInt32BE(i));
        break;
      case 'FL':
        out.push(le ? v.readFloatLE(i) : v.readFloatBE(i));
        break;
      case 'FD':
        out.push(le ? v.readDoubleLE(i) : v.readDoubleBE(i));
        break;
      case 'AT': {
        const g = le ? v.readUInt16LE(i) : v.readUInt16BE(i);
        const e = le ? v.readUInt16LE(i + 2) : v.readUInt16BE(i + 2);
        out.push(((g << 16) | e) >>> 0);
        break;
      }
      case 'SV':
        out.push(Number(le ? v.readBigInt64LE(i) : v.readBigInt64BE(i)));
        break;
      case 'UV':
        out.push(Number(le ? v.readBigUInt64LE(i) : v.readBigUInt64BE(i)));
        break;
    }
  }
  return out;
}

/** Top-level string value by tag, decoded with the dataset's character set. */
export function topLevelString(p: ParsedDicom, tag: number): string | undefined {
  const el = findElement(p.elements, tag);
  if (!el || el.items) return undefined;
  return readString(p.data, el, charsetsOf(p.data, p.elements, []));
}

export function metaString(p: ParsedDicom, tag: number): string | undefined {
  const el = findElement(p.meta, tag);
  if (!el) return undefined;
  return readString(p.source, el);
}
