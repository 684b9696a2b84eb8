import type { ParsedDicom } from '../parse/dataset.model.js';
import { type ParseOptions, parseDicom } from '../parse/parse.service.js';
import { charsetsOf, findElement, readString } from '../parse/value.reader.js';

/** Attributes the gateway and server index for C-FIND and QIDO-RS (decoded with the dataset's character set). */
export interface QueryAttributes {
  patientName?: string;
  patientId?: string;
  issuerOfPatientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyInstanceUid?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  studyId?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  seriesInstanceUid?: string;
  seriesNumber?: string;
  seriesDescription?: string;
  modality?: string;
  bodyPartExamined?: string;
  sopInstanceUid?: string;
  sopClassUid?: string;
  instanceNumber?: string;
  numberOfFrames?: string;
  /** Image Position / Orientation (Patient), as their DS strings: the viewer orders slices along the normal. */
  imagePositionPatient?: string;
  imageOrientationPatient?: string;
  rows?: number;
  columns?: number;
  transferSyntaxUid: string;
  specificCharacterSet?: string;
}

const STRING_FIELDS: [keyof QueryAttributes, number][] = [
  ['patientName', 0x00100010],
  ['patientId', 0x00100020],
  ['issuerOfPatientId', 0x00100021],
  ['patientBirthDate', 0x00100030],
  ['patientSex', 0x00100040],
  ['studyInstanceUid', 0x0020000d],
  ['studyDate', 0x00080020],
  ['studyTime', 0x00080030],
  ['studyDescription', 0x00081030],
  ['studyId', 0x00200010],
  ['accessionNumber', 0x00080050],
  ['referringPhysicianName', 0x00080090],
  ['seriesInstanceUid', 0x0020000e],
  ['seriesNumber', 0x00200011],
  ['seriesDescription', 0x0008103e],
  ['modality', 0x00080060],
  ['bodyPartExamined', 0x00180015],
  ['sopInstanceUid', 0x00080018],
  ['sopClassUid', 0x00080016],
  ['instanceNumber', 0x00200013],
  ['numberOfFrames', 0x00280008],
  ['imagePositionPatient', 0x00200032],
  ['imageOrientationPatient', 0x00200037],
  ['specificCharacterSet', 0x00080005],
];

export function queryAttributesOf(p: ParsedDicom): QueryAttributes {
  const out: QueryAttributes = { transferSyntaxUid: p.transferSyntax.uid };
  const cs = charsetsOf(p.data, p.elements, []);
  const rec = out as unknown as Record<string, string | number>;
  for (const [key, tag] of STRING_FIELDS) {
    const el = findElement(p.elements, tag);
    if (!el || el.items) continue;
    rec[key] = readString(p.data, el, cs);
  }
  for (const [key, tag] of [
    ['rows', 0x00280010],
    ['columns', 0x00280011],
  ] as const) {
    const el = findElement(p.elements, tag);
    if (el && el.vr === 'US' && el.valueLength >= 2) {
      rec[key] = el.littleEndian ? p.data.readUInt16LE(el.valueOffset) : p.data.readUInt16BE(el.valueOffset);
    }
  }
  return out;
}

export function extractQueryAttributes(bytes: Buffer, opts: ParseOptions = {}): QueryAttributes {
  return queryAttributesOf(parseDicom(bytes, opts));
}
