import type { DicomElement, ParsedDicom } from './dataset.model.js';
import { charsetsOf, readNumbers, readString, STRING_VRS, valueBytes } from './value.reader.js';

/**
 * The DICOM JSON model (PS3.18 §F.2) of a dataset, for WADO-RS metadata. Binary values (OB, OW, OD, OF, OL, OV,
 * UN and encapsulated pixel data) longer than `inlineMax` bytes are left out and named by a BulkDataURI built
 * from the element's path; shorter ones go inline as base64.
 */

export type DicomJson = Record<string, DicomJsonAttribute>;
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

const TAG_CHARSET = 0x00080005;
const BINARY_VRS = new Set(['OB', 'OW', 'OD', 'OF', 'OL', 'OV', 'UN']);
const NUMBER_STRING_VRS = new Set(['IS', 'DS']);

const hex8 = (tag: number) => tag.toString(16).toUpperCase().padStart(8, '0');

/** A path to one element: top-level `7FE00010`, nested `00540016/0/00181072` (sequence tag, item, tag). */
export type ElementPath = string;

export function toDicomJson(
  p: ParsedDicom,
  options: { bulkDataUri: (path: ElementPath) => string; inlineMax?: number },
): DicomJson {
  const inlineMax = options.inlineMax ?? 1024;
  const walk = (elements: readonly DicomElement[], cs: readonly string[], prefix: string): DicomJson => {
    const charsets = charsetsOf(p.data, elements, cs);
    const out: DicomJson = {};
    for (const el of elements) {
      const key = hex8(el.tag);
      const at = prefix ? `${prefix}/${key}` : key;
      const attr: DicomJsonAttribute = { vr: el.vr };
      if (el.items) {
        if (el.items.length)
          attr.Value = el.items.map((item, i) => walk(item.elements, charsets, `${at}/${i}`));
      } else if (el.fragments || (BINARY_VRS.has(el.vr) && el.valueLength > inlineMax)) {
        attr.BulkDataURI = options.bulkDataUri(at);
      } else if (BINARY_VRS.has(el.vr)) {
        if (el.valueLength) attr.InlineBinary = valueBytes(p.data, el).toString('base64');
      } else if (STRING_VRS.has(el.vr)) {
        const text = readString(p.data, el, charsets);
        if (el.tag === TAG_CHARSET && text !== '') {
          // Values are decoded to Unicode here and JSON is UTF-8, so the charset is now UTF-8 (dcmtk says so too).
          attr.Value = ['ISO_IR 192'];
        } else if (text !== '') {
          const whole = el.vr === 'LT' || el.vr === 'ST' || el.vr === 'UT' || el.vr === 'UR';
          const values = (whole ? [text] : text.split('\\')).map((v) => stringValue(el.vr, v));
          if (values.some((v) => v !== null)) attr.Value = values;
        }
      } else if (el.vr === 'AT') {
        const nums = readNumbers(p.data, el);
        if (nums.length) attr.Value = nums.map(hex8);
      } else {
        const nums = readNumbers(p.data, el);
        if (nums.length) attr.Value = nums;
      }
      out[key] = attr;
    }
    return out;
  };
  return walk(p.elements, [], '');
}

function stringValue(vr: string, v: string): unknown {
  const t = v.trim();
  if (vr === 'PN') {
    // Only delimiters (`^^^^`, `=`): an empty name.
    if (/^[\s^=]*$/.test(v)) return null;
    const [alphabetic, ideographic, phonetic] = v.split('=');
    return {
      ...(alphabetic ? { Alphabetic: alphabetic.trimEnd() } : {}),
      ...(ideographic ? { Ideographic: ideographic.trimEnd() } : {}),
      ...(phonetic ? { Phonetic: phonetic.trimEnd() } : {}),
    };
  }
  if (NUMBER_STRING_VRS.has(vr)) {
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : t;
  }
  return t === '' ? null : vr === 'LT' || vr === 'ST' || vr === 'UT' ? v : t;
}

/**
 * The bytes a BulkDataURI names: the element's value, or for encapsulated pixel data its fragments after the
 * offset table, concatenated. Undefined when the path does not lead to a binary element.
 */
export function bulkDataAt(p: ParsedDicom, path: ElementPath): Buffer | undefined {
  const steps = path.split('/');
  let elements: readonly DicomElement[] = p.elements;
  for (let i = 0; i < steps.length; i += 2) {
    const tag = Number.parseInt(steps[i] ?? '', 16);
    if (!/^[0-9A-Fa-f]{8}$/.test(steps[i] ?? '')) return undefined;
    const el = elements.find((e) => e.tag === tag);
    if (!el) return undefined;
    if (i + 1 >= steps.length) {
      if (el.fragments)
        return Buffer.concat(
          el.fragments.slice(1).map((f) => p.data.subarray(f.valueOffset, f.valueOffset + f.length)),
        );
      return BINARY_VRS.has(el.vr) ? valueBytes(p.data, el) : undefined;
    }
    const item = el.items?.[Number(steps[i + 1])];
    if (!item || !/^\d+$/.test(steps[i + 1] ?? '')) return undefined;
    elements = item.elements;
  }
  return undefined;
}
