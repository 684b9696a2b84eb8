import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { annexERow } from '../dict/annex-e.table.js';
import { DicomError } from '../errors/dicom.error.js';
import { spliceOutput } from '../hash/splice-hash.service.js';
import {
  type DicomElement,
  type DicomItem,
  type ParsedDicom,
  UNDEFINED_LENGTH,
} from '../parse/dataset.model.js';
import {
  type Encoding,
  encodeElement,
  encodeElements,
  encodeU32,
  padValue,
  type SimpleElement,
  writeHeader,
} from '../parse/element.writer.js';
import { type ParseOptions, parseDicom } from '../parse/parse.service.js';
import { findElement, readString, valueBytes } from '../parse/value.reader.js';
import type { IdentityEdit, IdentityRecord } from '../restore/identity.codec.js';
import { type DeidProfile, methodCodes } from './profile.model.js';
import {
  hmacToken,
  type PatientPseudonym,
  patientPseudonym,
  secretBuffer,
  UidMapper,
} from './pseudonym.service.js';
import { type Action, actionForTag } from './rules.service.js';

export interface DeidentifyOptions extends ParseOptions {
  profile: DeidProfile;
  secret: Buffer | string;
}

export interface DeidSummary {
  profile: string;
  edition: string;
  actions: Record<Action, number>;
  /** Elements with no Table E.1-1 row, kept as they are. */
  unlisted: number;
  inserted: number;
  burnedInTextRisk: boolean;
  burnedInReason: string | undefined;
  newStudyUid: string | undefined;
  newSeriesUid: string | undefined;
  newSopInstanceUid: string | undefined;
  sopClassUid: string | undefined;
  modality: string | undefined;
  transferSyntaxUid: string;
  originalSize: number;
  deidentifiedSize: number;
}

export interface DeidResult {
  deidentified: Buffer;
  identity: IdentityRecord;
  summary: DeidSummary;
}

interface Edit {
  start: number;
  end: number;
  bytes: Buffer;
}

type Mode = 'normal' | 'dummyText' | 'cleanText';

const EMPTY = Buffer.alloc(0);

/** Merges edits that touch, so runs of removed elements (private blocks) become one splice. */
function mergeEdits(sorted: Edit[]): Edit[] {
  const out: Edit[] = [];
  let parts: Buffer[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last && last.end === e.start && !(e.start === e.end && last.start === last.end)) {
      if (parts.length === 0) parts.push(last.bytes);
      if (e.bytes.length) parts.push(e.bytes);
      last.end = e.end;
      continue;
    }
    if (last && parts.length) last.bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts = [];
    out.push({ ...e });
  }
  const last = out[out.length - 1];
  if (last && parts.length) last.bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return out;
}

const TEXT_VRS = new Set(['LO', 'LT', 'ST', 'UT', 'SH', 'PN', 'UC']);
const BINARY_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'UN',
  'US',
  'SS',
  'UL',
  'SL',
  'FL',
  'FD',
  'AT',
  'SV',
  'UV',
]);

const TAG_PATIENT_NAME = 0x00100010;
const TAG_PATIENT_ID = 0x00100020;
const TAG_SOP_INSTANCE_UID = 0x00080018;
const TAG_SOP_CLASS_UID = 0x00080016;
const TAG_STUDY_UID = 0x0020000d;
const TAG_SERIES_UID = 0x0020000e;
const TAG_MODALITY = 0x00080060;
const TAG_BURNED_IN = 0x00280301;
const TAG_IDENTITY_REMOVED = 0x00120062;
const TAG_DEID_METHOD = 0x00120063;
const TAG_DEID_METHOD_CODES = 0x00120064;
const TAG_LONGITUDINAL_MODIFIED = 0x00280303;
const ADDED_TAGS = new Set([
  TAG_IDENTITY_REMOVED,
  TAG_DEID_METHOD,
  TAG_DEID_METHOD_CODES,
  TAG_LONGITUDINAL_MODIFIED,
]);

/** Identifying attributes whose values are scrubbed out of free text by the clean actions. */
const SCRUB_SOURCE_TAGS = [
  0x00100010, 0x00100020, 0x00101000, 0x00101001, 0x00101005, 0x00101060, 0x00101040, 0x00102154, 0x00100030,
  0x00080090, 0x00081050, 0x00081070, 0x00081060, 0x00321032, 0x00080080, 0x00080081, 0x00080050, 0x00081010,
  0x00100021, 0x00380010,
];

export const IMPLEMENTATION_CLASS_UID = '2.25.145316245338296812034592183476098420613';
export const IMPLEMENTATION_VERSION = 'MEDGRID_DICOM_1';

const MEDIA_DIRECTORY_SOP_CLASS = '1.2.840.10008.1.3.10';
/** Attribute types in DICOMDIR directory records (PS3.3 F.5) where the general-IOD choice would break conformance. */
const DICOMDIR_RECORD_TYPES = new Map<number, 1 | 2>([
  [0x00080020, 1],
  [0x00080030, 1],
  [0x00200010, 1],
  [0x00081030, 2],
]);

function dicomdirAction(tag: number, action: Action, el: DicomElement): Action {
  const t = DICOMDIR_RECORD_TYPES.get(tag);
  if (t === 1 && (action === 'Z' || action === 'X') && el.valueLength > 0) return 'D';
  if (t === 2 && action === 'X') return 'Z';
  return action;
}

class Deidentifier {
  readonly edits: Edit[] = [];
  readonly actions: Record<Action, number> = { X: 0, Z: 0, D: 0, K: 0, C: 0, U: 0 };
  unlisted = 0;
  readonly dicomdir: boolean;
  private readonly uids: UidMapper;
  private pseudo: PatientPseudonym | undefined;
  private scrubTokens: Buffer[] | undefined;

  constructor(
    readonly p: ParsedDicom,
    readonly profile: DeidProfile,
    readonly secret: Buffer,
  ) {
    this.uids = new UidMapper(secret);
    const cls = findElement(p.meta, 0x00020002);
    this.dicomdir = !!cls && readString(p.source, cls) === MEDIA_DIRECTORY_SOP_CLASS;
  }

  get data(): Buffer {
    return this.p.data;
  }

  /**
   * Pseudonym of the dataset's patient. `local` is the element list being processed: a PatientID there
   * (e.g. a DICOMDIR patient record) keys the pseudonym, so it matches that patient's own instances.
   */
  patient(local?: readonly DicomElement[]): PatientPseudonym {
    const d = this.data;
    const raw = (list: readonly DicomElement[], tag: number) => {
      const e = findElement(list, tag);
      return e && !e.items ? readString(d, e) : '';
    };
    if (local && local !== this.p.elements) {
      const id = raw(local, TAG_PATIENT_ID);
      if (id) return patientPseudonym(this.secret, `id:${id}\\${raw(local, 0x00100021)}`);
    }
    if (!this.pseudo) {
      const top = this.p.elements;
      const id = raw(top, TAG_PATIENT_ID);
      const key = id
        ? `id:${id}\\${raw(top, 0x00100021)}`
        : `name:${raw(top, TAG_PATIENT_NAME)}\\${raw(top, 0x00100030)}\\${raw(top, TAG_STUDY_UID)}`;
      this.pseudo = patientPseudonym(this.secret, key);
    }
    return this.pseudo;
  }

  mapUid(uid: string): string {
    return this.uids.map(uid);
  }

  /** The value an attribute's UID ends up with: remapped unless the profile keeps that attribute. */
  finalUid(tag: number, uid: string): string {
    return actionForTag(tag, this.profile.options)?.action === 'K' ? uid : this.uids.map(uid);
  }

  /** Processes a list of elements, pushing edits; returns the change in byte length. */
  list(elements: readonly DicomElement[], depth: number, mode: Mode): number {
    let delta = 0;
    const privateCreators = this.profile.options.retainSafePrivate
      ? this.safePrivateDecisions(elements)
      : undefined;
    for (const el of elements) {
      const tag = el.tag;
      const group = tag >>> 16;
      if (depth === 0 && ADDED_TAGS.has(tag)) continue;
      if ((tag & 0xffff) === 0 && group !== 0xfffc) {
        this.actions.X++;
        delta += this.remove(el);
        continue;
      }
      if (group & 1) {
        if (privateCreators?.has(el)) {
          this.actions.K++;
          continue;
        }
        this.actions.X++;
        delta += this.remove(el);
        continue;
      }
      const rule = actionForTag(tag, this.profile.options);
      let action: Action | undefined = rule?.action;
      if (!action) {
        this.unlisted++;
        if (mode !== 'normal' && TEXT_VRS.has(el.vr) && el.valueLength > 0)
          action = mode === 'cleanText' ? 'C' : 'D';
        else {
          if (el.items) delta += this.sequence(el, depth, mode);
          continue;
        }
      }
      if (this.dicomdir && depth > 0) action = dicomdirAction(tag, action, el);
      if (
        (tag === TAG_PATIENT_NAME || tag === TAG_PATIENT_ID) &&
        this.profile.pseudonymizePatient &&
        action === 'Z'
      ) {
        action = 'D';
      }
      this.actions[action]++;
      switch (action) {
        case 'X':
          delta += this.remove(el);
          break;
        case 'Z':
          delta += this.zero(el);
          break;
        case 'K':
          if (el.items) delta += this.sequence(el, depth, mode);
          break;
        case 'D':
          delta += el.items
            ? this.sequence(el, depth, mode === 'cleanText' ? mode : 'dummyText')
            : this.dummy(el, elements);
          break;
        case 'U':
          delta += el.items ? this.sequence(el, depth, mode) : this.remapUids(el);
          break;
        case 'C':
          delta += el.items ? this.sequence(el, depth, 'cleanText') : this.clean(el);
          break;
      }
    }
    return delta;
  }

  /** Elements of kept private blocks: safe-listed elements and their creators. */
  private safePrivateDecisions(elements: readonly DicomElement[]): Set<DicomElement> {
    const keep = new Set<DicomElement>();
    const creators = new Map<number, { el: DicomElement; name: string }>();
    for (const el of elements) {
      const g = el.tag >>> 16;
      const e = el.tag & 0xffff;
      if (g & 1 && e >= 0x10 && e <= 0xff)
        creators.set(((g << 8) | e) >>> 0, { el, name: readString(this.data, el) });
    }
    if (creators.size === 0) return keep;
    for (const el of elements) {
      const g = el.tag >>> 16;
      const e = el.tag & 0xffff;
      if (!(g & 1) || e < 0x1000) continue;
      const c = creators.get(((g << 8) | (e >>> 8)) >>> 0);
      if (!c) continue;
      const safe = this.profile.safePrivateTags.some(
        (s) => s.group === g && s.element === (e & 0xff) && s.creator === c.name,
      );
      if (safe && !el.items) {
        keep.add(el);
        keep.add(c.el);
      }
    }
    return keep;
  }

  private sequence(el: DicomElement, depth: number, mode: Mode): number {
    let total = 0;
    for (const item of el.items!) {
      const d = this.list(item.elements, depth + 1, mode);
      if (d !== 0 && item.length !== UNDEFINED_LENGTH) this.lengthEdit(item, item.length + d);
      total += d;
    }
    if (total !== 0 && el.length !== UNDEFINED_LENGTH) {
      this.edits.push({
        start: el.valueOffset - 4,
        end: el.valueOffset,
        bytes: encodeU32(el.length + total, el.littleEndian),
      });
    }
    return total;
  }

  private lengthEdit(item: DicomItem, newLength: number): void {
    this.edits.push({
      start: item.valueOffset - 4,
      end: item.valueOffset,
      bytes: encodeU32(newLength, item.littleEndian),
    });
  }

  private remove(el: DicomElement): number {
    this.edits.push({ start: el.offset, end: el.end, bytes: EMPTY });
    return -(el.end - el.offset);
  }

  /** Rewrites the element with a new value, keeping its header form (VR as written, byte order). */
  private replace(el: DicomElement, value: Buffer): number {
    const vr = el.explicitVr ? this.data.toString('latin1', el.offset + 4, el.offset + 6) : el.vr;
    const enc: Encoding = { littleEndian: el.littleEndian, explicitVr: el.explicitVr };
    let v = padValue(el.vr, value);
    if (enc.explicitVr && v.length > 0xffff && !['OB', 'OW', 'UN', 'UT', 'UC', 'UR', 'SQ'].includes(vr))
      v = Buffer.alloc(0);
    const bytes = encodeElement(el.tag, vr, v, enc);
    this.edits.push({ start: el.offset, end: el.end, bytes });
    return bytes.length - (el.end - el.offset);
  }

  private replaceValueInPlace(el: DicomElement, value: Buffer): number {
    if (value.length !== el.valueLength || el.items) return this.replace(el, value);
    if (!value.equals(valueBytes(this.data, el))) {
      this.edits.push({ start: el.valueOffset, end: el.valueOffset + el.valueLength, bytes: value });
    }
    return 0;
  }

  private zero(el: DicomElement): number {
    if (el.valueLength === 0 && el.length !== UNDEFINED_LENGTH) return 0;
    return this.replace(el, Buffer.alloc(0));
  }

  private dummy(el: DicomElement, siblings?: readonly DicomElement[]): number {
    if (el.valueLength === 0) return 0;
    if (el.vr === 'UI') return this.remapUids(el);
    if (el.tag === TAG_PATIENT_NAME && this.profile.pseudonymizePatient) {
      return this.replace(el, Buffer.from(this.patient(siblings).name, 'latin1'));
    }
    if (el.tag === TAG_PATIENT_ID && this.profile.pseudonymizePatient) {
      return this.replace(el, Buffer.from(this.patient(siblings).id, 'latin1'));
    }
    return this.replace(
      el,
      dummyValue(el, (u) => this.mapUid(u)),
    );
  }

  private remapUids(el: DicomElement): number {
    if (el.vr !== 'UI') return this.dummy(el);
    if (el.valueLength === 0) return 0;
    const uids = readString(this.data, el)
      .split('\\')
      .map((u) => this.mapUid(u.trim()));
    return this.replace(el, Buffer.from(uids.join('\\'), 'latin1'));
  }

  private clean(el: DicomElement): number {
    if (el.valueLength === 0) return 0;
    const vr = el.vr;
    if (vr === 'DA' || vr === 'DT') {
      if (!this.profile.options.retainLongitudinalModifiedDates) return this.dummy(el);
      const shifted = shiftDates(readString(this.data, el), vr, this.patient().dateShiftDays);
      return this.replace(el, Buffer.from(shifted, 'latin1'));
    }
    if (vr === 'TM') return 0;
    if (vr === 'AE') {
      return this.replace(
        el,
        Buffer.from(`AE${hmacToken(this.secret, 'ae', readString(this.data, el), 14)}`, 'latin1'),
      );
    }
    if (vr === 'PN') return this.replace(el, Buffer.from('ANONYMOUS', 'latin1'));
    if (vr === 'UI') return this.remapUids(el);
    if (BINARY_VRS.has(vr)) return 0;
    return this.replaceValueInPlace(el, this.scrub(valueBytes(this.data, el)));
  }

  /** Masks identifying values and long digit runs in free text, keeping its length. */
  private scrub(value: Buffer): Buffer {
    const out = Buffer.from(value);
    for (const t of this.tokens()) {
      let i = indexOfCaseless(out, t, 0);
      while (i >= 0) {
        out.fill(0x2a, i, i + t.length);
        i = indexOfCaseless(out, t, i + t.length);
      }
    }
    let run = 0;
    for (let i = 0; i <= out.length; i++) {
      const c = out[i];
      if (c !== undefined && c >= 0x30 && c <= 0x39) run++;
      else {
        if (run >= 5) out.fill(0x2a, i - run, i);
        run = 0;
      }
    }
    return out;
  }

  private tokens(): Buffer[] {
    if (this.scrubTokens) return this.scrubTokens;
    const set = new Set<string>();
    const top = this.p.elements;
    for (const tag of SCRUB_SOURCE_TAGS) {
      const el = findElement(top, tag);
      if (!el || el.items || el.valueLength === 0) continue;
      const s = valueBytes(this.data, el).toString('latin1');
      for (const part of s.split(/[\\^=,\s]+/)) {
        const t = part.trim();
        if (t.length >= 3) set.add(t);
      }
    }
    this.scrubTokens = [...set].sort((a, b) => b.length - a.length).map((t) => Buffer.from(t, 'latin1'));
    return this.scrubTokens;
  }
}

function indexOfCaseless(hay: Buffer, needle: Buffer, from: number): number {
  const n = needle.length;
  outer: for (let i = from; i + n <= hay.length; i++) {
    for (let j = 0; j < n; j++) {
      const a = hay[i + j]!;
      const b = needle[j]!;
      if (a !== b && (a | 0x20) !== (b | 0x20)) continue outer;
      if (a !== b && !((a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a)) continue outer;
    }
    return i;
  }
  return -1;
}

function dummyValue(el: DicomElement, mapUid: (u: string) => string): Buffer {
  switch (el.vr) {
    case 'PN':
      return Buffer.from('ANONYMOUS', 'latin1');
    case 'DA':
      return Buffer.from('19000101', 'latin1');
    case 'DT':
      return Buffer.from('19000101000000', 'latin1');
    case 'TM':
      return Buffer.from('000000', 'latin1');
    case 'AS':
      return Buffer.from('000Y', 'latin1');
    case 'DS':
    case 'IS':
      return Buffer.from('0', 'latin1');
    case 'UI':
      return Buffer.from(mapUid('1.2.3.4'), 'latin1');
    case 'CS':
    case 'AE':
    case 'SH':
    case 'LO':
    case 'LT':
    case 'ST':
    case 'UT':
    case 'UC':
    case 'UR':
      return Buffer.from('ANONYMIZED', 'latin1');
    default:
      return Buffer.alloc(Math.min(el.valueLength, 8));
  }
}

const MS_PER_DAY = 86_400_000;

function shiftDate(d: string, days: number): string | undefined {
  if (!/^\d{8}$/.test(d)) return undefined;
  const t = Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8));
  if (Number.isNaN(t)) return undefined;
  const n = new Date(t + days * MS_PER_DAY);
  return `${n.getUTCFullYear().toString().padStart(4, '0')}${(n.getUTCMonth() + 1).toString().padStart(2, '0')}${n
    .getUTCDate()
    .toString()
    .padStart(2, '0')}`;
}

/** Shifts every date in a DA/DT value (multi-valued, ranges) by whole days; unparseable parts are emptied. */
export function shiftDates(value: string, vr: string, days: number): string {
  return value
    .split('\\')
    .map((v) =>
      v
        .split('-')
        .map((part) => {
          const p = part.trim();
          if (p === '') return '';
          if (vr === 'DA') return shiftDate(p, days) ?? '';
          const head = shiftDate(p.slice(0, 8), days);
          return head ? head + p.slice(8) : '';
        })
        .join('-'),
    )
    .join('\\');
}

function burnedInRisk(p: ParsedDicom): { risk: boolean; reason: string | undefined } {
  const d = p.data;
  const s = (tag: number) => {
    const e = findElement(p.elements, tag);
    return e && !e.items ? readString(d, e).toUpperCase() : '';
  };
  const flag = s(TAG_BURNED_IN);
  if (flag === 'YES') return { risk: true, reason: 'BurnedInAnnotation=YES' };
  if (flag === 'NO') return { risk: false, reason: undefined };
  const modality = s(TAG_MODALITY);
  if (['US', 'IVUS', 'XA', 'ES', 'XC', 'SC', 'OT', 'DOC'].includes(modality)) {
    return { risk: true, reason: `modality ${modality}` };
  }
  const sopClass = s(TAG_SOP_CLASS_UID);
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.7') || sopClass.startsWith('1.2.840.10008.5.1.4.1.1.6')) {
    return { risk: true, reason: 'secondary capture or ultrasound SOP class' };
  }
  if (sopClass.startsWith('1.2.840.10008.5.1.4.1.1.104'))
    return { risk: true, reason: 'encapsulated document' };
  return { risk: false, reason: undefined };
}

function datasetEncoding(p: ParsedDicom): Encoding {
  return { littleEndian: p.transferSyntax.littleEndian, explicitVr: p.transferSyntax.explicitVr };
}

function addedElements(profile: DeidProfile): SimpleElement[] {
  const o = profile.options;
  const method = `MedGrid ${profile.name} v${profile.version} PS3.15 E.1-1 ${profile.edition}`.slice(0, 64);
  const longitudinal = o.retainLongitudinalFullDates
    ? 'UNMODIFIED'
    : o.retainLongitudinalModifiedDates
      ? 'MODIFIED'
      : 'REMOVED';
  return [
    { tag: TAG_IDENTITY_REMOVED, vr: 'CS', value: 'YES' },
    { tag: TAG_DEID_METHOD, vr: 'LO', value: method },
    {
      tag: TAG_DEID_METHOD_CODES,
      vr: 'SQ',
      value: methodCodes(profile).map((c) => [
        { tag: 0x00080100, vr: 'SH', value: c.code },
        { tag: 0x00080102, vr: 'SH', value: 'DCM' },
        { tag: 0x00080104, vr: 'LO', value: c.meaning },
      ]),
    },
    { tag: TAG_LONGITUDINAL_MODIFIED, vr: 'CS', value: longitudinal },
  ];
}

const markerCache = new WeakMap<DeidProfile, Map<string, { tag: number; bytes: Buffer }[]>>();

/** The marker elements depend only on the profile and the encoding, so they are encoded once. */
function encodedMarkers(profile: DeidProfile, enc: Encoding): { tag: number; bytes: Buffer }[] {
  let byEnc = markerCache.get(profile);
  if (!byEnc) {
    byEnc = new Map();
    markerCache.set(profile, byEnc);
  }
  const key = `${enc.littleEndian ? 'L' : 'B'}${enc.explicitVr ? 'E' : 'I'}`;
  let list = byEnc.get(key);
  if (!list) {
    list = addedElements(profile).map((el) => ({ tag: el.tag, bytes: encodeElements([el], enc) }));
    byEnc.set(key, list);
  }
  return list;
}

/** Adds the de-identification markers at their sorted places in the top-level dataset. */
function insertMarkers(p: ParsedDicom, profile: DeidProfile, edits: Edit[]): number {
  const enc = datasetEncoding(p);
  let delta = 0;
  const top = p.elements;
  const lastEnd = top.length ? top[top.length - 1]!.end : p.datasetStart;
  const pending = new Map<number, Buffer[]>();
  for (const { tag, bytes } of encodedMarkers(profile, enc)) {
    const el = { tag };
    const existing = findElement(top, el.tag);
    if (existing) {
      edits.push({ start: existing.offset, end: existing.end, bytes });
      delta += bytes.length - (existing.end - existing.offset);
      for (const other of top) {
        if (other !== existing && other.tag === el.tag) {
          edits.push({ start: other.offset, end: other.end, bytes: EMPTY });
          delta -= other.end - other.offset;
        }
      }
      continue;
    }
    const next = top.find((e) => e.tag > el.tag);
    const at = next ? next.offset : lastEnd;
    const list = pending.get(at) ?? [];
    list.push(bytes);
    pending.set(at, list);
    delta += bytes.length;
  }
  for (const [at, list] of pending) edits.push({ start: at, end: at, bytes: Buffer.concat(list) });
  return delta;
}

function buildMeta(p: ParsedDicom, sopClassUid: string, sopInstanceUid: string): Buffer {
  const tsUid = p.transferSyntax.uid;
  const enc: Encoding = { littleEndian: true, explicitVr: true };
  const els: SimpleElement[] = [{ tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) }];
  // An absent SOP class or instance stays absent rather than becoming an empty Type 1 element.
  if (sopClassUid) els.push({ tag: 0x00020002, vr: 'UI', value: sopClassUid });
  if (sopInstanceUid) els.push({ tag: 0x00020003, vr: 'UI', value: sopInstanceUid });
  els.push(
    { tag: 0x00020010, vr: 'UI', value: tsUid },
    { tag: 0x00020012, vr: 'UI', value: IMPLEMENTATION_CLASS_UID },
    { tag: 0x00020013, vr: 'SH', value: IMPLEMENTATION_VERSION },
  );
  const body = encodeElements(els, enc);
  const out = Buffer.alloc(132 + 12 + body.length);
  out.write('DICM', 128, 'latin1');
  const gl = Buffer.allocUnsafe(4);
  gl.writeUInt32LE(body.length, 0);
  writeHeader(out, 132, 0x00020000, 'UL', 4, enc);
  gl.copy(out, 140);
  body.copy(out, 144);
  return out;
}

/** Finds zlib settings that reproduce the original deflated bytes, so restore need not store them. */
function deflateLevelReproducing(original: Buffer, inflated: Buffer): number | undefined {
  // Each try deflates the whole dataset, so large ones only try zlib's default level.
  const levels = inflated.length > 4 * 1024 * 1024 ? [6] : [6, 9, 1, 5, 4, 7, 8, 3, 2, 0];
  for (const level of levels) {
    const again = deflateRawSync(inflated, { level });
    if (again.equals(original)) return level;
  }
  return undefined;
}

export function deidentify(bytes: Buffer, opts: DeidentifyOptions): DeidResult {
  if (!opts?.profile) throw new DicomError('BAD_ARGUMENT', 'a de-identification profile is required');
  const secret = secretBuffer(opts.secret);
  const p = parseDicom(bytes, opts);
  const d = new Deidentifier(p, opts.profile, secret);
  let delta = d.list(p.elements, 0, 'normal');
  delta += insertMarkers(p, opts.profile, d.edits);
  const edits = mergeEdits(d.edits.sort((a, b) => a.start - b.start || a.end - b.end));

  const data = p.data;
  const dsLen = p.datasetEnd - p.datasetStart + delta;
  const uidOf = (tag: number) => {
    const e = findElement(p.elements, tag);
    return e && !e.items && e.valueLength > 0 ? readString(data, e) : undefined;
  };
  const origSop = uidOf(TAG_SOP_INSTANCE_UID);
  const metaSop = (() => {
    const e = findElement(p.meta, 0x00020003);
    return e && e.valueLength > 0 ? readString(p.source, e) : undefined;
  })();
  const newSop =
    origSop !== undefined
      ? d.finalUid(TAG_SOP_INSTANCE_UID, origSop)
      : metaSop !== undefined
        ? d.finalUid(TAG_SOP_INSTANCE_UID, metaSop)
        : undefined;
  const sopClass =
    uidOf(TAG_SOP_CLASS_UID) ??
    (() => {
      const e = findElement(p.meta, 0x00020002);
      return e ? readString(p.source, e) : '';
    })();
  const meta = buildMeta(p, sopClass, newSop ?? '');

  // Splice: each edit's original bytes go to the identity record; everything else is copied once, and the
  // original's SHA-256 is computed in the same pass.
  const deflated = p.transferSyntax.deflated;
  const outSize = deflated ? dsLen : meta.length + dsLen;
  const { out: target, hasher } = deflated
    ? { out: Buffer.allocUnsafe(dsLen), hasher: undefined }
    : spliceOutput(outSize);
  let w = deflated ? 0 : meta.copy(target, 0);
  const base = w;
  let r = p.datasetStart;
  const recEdits: IdentityEdit[] = [];
  hasher?.literal(bytes.subarray(0, p.datasetStart));
  for (const e of edits) {
    if (e.start < r) throw new DicomError('BAD_STRUCTURE', 'overlapping edits');
    w += hasher ? hasher.copy(data, r, e.start, target, w) : data.copy(target, w, r, e.start);
    const original = Buffer.from(data.subarray(e.start, e.end));
    hasher?.literal(original);
    recEdits.push({ offset: w - base, length: e.bytes.length, original });
    w += e.bytes.copy(target, w);
    r = e.end;
  }
  w += hasher ? hasher.copy(data, r, p.datasetEnd, target, w) : data.copy(target, w, r, p.datasetEnd);
  if (hasher && p.datasetEnd < bytes.length) hasher.literal(bytes.subarray(p.datasetEnd));
  const sha256 = hasher ? hasher.digest() : createHash('sha256').update(bytes).digest();
  const dataset = deflated ? target : undefined;
  const out = deflated ? undefined : target;

  let deidentified: Buffer;
  let deflate: IdentityRecord['deflate'];
  if (deflated) {
    const originalDeflated = bytes.subarray(p.metaEnd);
    const level = deflateLevelReproducing(originalDeflated, data);
    deflate = level === undefined ? { stored: Buffer.from(originalDeflated) } : { level };
    deidentified = Buffer.concat([meta, deflateRawSync(dataset!, { level: level ?? 6 })]);
  } else deidentified = out!;

  const identity: IdentityRecord = {
    version: 1,
    sha256,
    originalLength: bytes.length,
    prefix: Buffer.from(bytes.subarray(0, p.metaEnd)),
    deflate,
    deidDatasetLength: dsLen,
    edits: recEdits,
    newSopInstanceUid: newSop ?? '',
  };
  const risk = burnedInRisk(p);
  const study = uidOf(TAG_STUDY_UID);
  const series = uidOf(TAG_SERIES_UID);
  const summary: DeidSummary = {
    profile: `${opts.profile.name}@${opts.profile.version}`,
    edition: opts.profile.edition,
    actions: d.actions,
    unlisted: d.unlisted,
    inserted: edits.filter((e) => e.start === e.end).length,
    burnedInTextRisk: risk.risk,
    burnedInReason: risk.reason,
    newStudyUid: study === undefined ? undefined : d.finalUid(TAG_STUDY_UID, study),
    newSeriesUid: series === undefined ? undefined : d.finalUid(TAG_SERIES_UID, series),
    newSopInstanceUid: newSop,
    sopClassUid: sopClass || undefined,
    modality: uidOf(TAG_MODALITY),
    transferSyntaxUid: p.transferSyntax.uid,
    originalSize: bytes.length,
    deidentifiedSize: deidentified.length,
  };
  return { deidentified, identity, summary };
}

export { annexERow };
