import { encodeElements, lookupTag, parseDicom, type SimpleElement, transferSyntaxOf } from '@medgrid/dicom';
import type { Vault } from '../vault/vault.service.js';

export type Level = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';

interface KeyDef {
  col: string;
  vr: string;
  level: Level;
}

/** Attributes answered from the vault, with their column and level (PS3.4 C.6.1.1 / C.6.2.1). */
const KEYS = new Map<number, KeyDef>([
  [0x00100010, { col: 'patient_name', vr: 'PN', level: 'PATIENT' }],
  [0x00100020, { col: 'patient_id', vr: 'LO', level: 'PATIENT' }],
  [0x00100030, { col: 'patient_birth_date', vr: 'DA', level: 'PATIENT' }],
  [0x00100040, { col: 'patient_sex', vr: 'CS', level: 'PATIENT' }],
  [0x0020000d, { col: 'study_instance_uid', vr: 'UI', level: 'STUDY' }],
  [0x00080020, { col: 'study_date', vr: 'DA', level: 'STUDY' }],
  [0x00080030, { col: 'study_time', vr: 'TM', level: 'STUDY' }],
  [0x00080050, { col: 'accession_number', vr: 'SH', level: 'STUDY' }],
  [0x00200010, { col: 'study_id', vr: 'SH', level: 'STUDY' }],
  [0x00081030, { col: 'study_description', vr: 'LO', level: 'STUDY' }],
  [0x00080090, { col: 'referring_physician_name', vr: 'PN', level: 'STUDY' }],
  [0x0020000e, { col: 'series_instance_uid', vr: 'UI', level: 'SERIES' }],
  [0x00080060, { col: 'modality', vr: 'CS', level: 'SERIES' }],
  [0x00200011, { col: 'series_number', vr: 'IS', level: 'SERIES' }],
  [0x0008103e, { col: 'series_description', vr: 'LO', level: 'SERIES' }],
  [0x00080018, { col: 'sop_instance_uid', vr: 'UI', level: 'IMAGE' }],
  [0x00080016, { col: 'sop_class_uid', vr: 'UI', level: 'IMAGE' }],
  [0x00200013, { col: 'instance_number', vr: 'IS', level: 'IMAGE' }],
]);

const TAG_QR_LEVEL = 0x00080052;
const TAG_CHARSET = 0x00080005;
const TAG_MODALITIES_IN_STUDY = 0x00080061;
const TAG_RETRIEVE_AE = 0x00080054;
const COUNTS = new Map<number, string>([
  [0x00201200, 'n_studies'],
  [0x00201202, 'n_series'],
  [0x00201204, 'n_instances'],
  [0x00201206, 'n_series'],
  [0x00201208, 'n_instances'],
  [0x00201209, 'n_instances'],
]);

const LEVEL_KEY: Record<Level, string> = {
  PATIENT: 'patient_id',
  STUDY: 'study_instance_uid',
  SERIES: 'series_instance_uid',
  IMAGE: 'sop_instance_uid',
};

export class QueryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Identifier {
  level: Level;
  /** Every attribute of the request, in order, with its VR and (decoded) value. */
  keys: { tag: number; vr: string; value: string }[];
}

/** Reads a C-FIND/C-MOVE/C-GET identifier (top-level elements only; sequences are returned empty). */
export function parseIdentifier(dataset: Buffer, transferSyntaxUid: string): Identifier {
  let p: ReturnType<typeof parseDicom>;
  try {
    p = parseDicom(dataset, { transferSyntaxUid });
  } catch {
    throw new QueryError(0xa900, 'identifier cannot be parsed');
  }
  const cs = p.elements.find((e) => e.tag === TAG_CHARSET);
  const utf8 = cs
    ? p.data.toString('latin1', cs.valueOffset, cs.valueOffset + cs.valueLength).includes('192')
    : false;
  const keys: Identifier['keys'] = [];
  let level: string | undefined;
  for (const el of p.elements) {
    let value = '';
    if (!el.items && !el.fragments && el.vr !== 'SQ') {
      const raw = p.data.subarray(el.valueOffset, el.valueOffset + el.valueLength);
      value = raw
        .toString(utf8 ? 'utf8' : 'latin1')
        .replace(/[\0 ]+$/, '')
        .replace(/^ +/, '');
    }
    if (el.tag === TAG_QR_LEVEL) level = value.toUpperCase();
    keys.push({ tag: el.tag, vr: el.vr, value });
  }
  if (level !== 'PATIENT' && level !== 'STUDY' && level !== 'SERIES' && level !== 'IMAGE') {
    throw new QueryError(0xa900, 'missing or unknown QueryRetrieveLevel');
  }
  return { level, keys };
}

/** SQL condition for one key under PS3.4 C.2.2.2 matching, or undefined for universal matching. */
function condition(col: string, vr: string, value: string, params: unknown[]): string | undefined {
  if (value === '' || value === '*') return undefined;
  const ref = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const values = value.split('\\');
  if (values.length > 1) {
    if (vr === 'UI') return `${col} = any(${ref(values)}::text[])`;
    const parts = values.map((v) => condition(col, vr, v, params));
    if (parts.some((x) => x === undefined)) return undefined;
    return `(${parts.join(' or ')})`;
  }
  if ((vr === 'DA' || vr === 'TM' || vr === 'DT') && value.includes('-')) {
    const [a, b] = value.split('-') as [string, string];
    const conds: string[] = [];
    if (a) conds.push(`${col} >= ${ref(a)}`);
    if (b) conds.push(vr === 'DA' ? `${col} <= ${ref(b)}` : `${col} <= ${ref(`${b}\uffff`)}`);
    return conds.length ? `(${conds.join(' and ')})` : undefined;
  }
  const ci = vr === 'PN';
  if (vr !== 'UI' && /[*?]/.test(value)) {
    const like = value
      .replace(/[\\%_]/g, (c) => `\\${c}`)
      .replace(/\*/g, '%')
      .replace(/\?/g, '_');
    return `${col} ${ci ? 'ilike' : 'like'} ${ref(like)}`;
  }
  return ci ? `lower(${col}) = lower(${ref(value)})` : `${col} = ${ref(value)}`;
}

/** WHERE clause over vault rows for an identifier's keys (each row carries all its levels). */
export function whereOf(id: Identifier): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  for (const k of id.keys) {
    const def = KEYS.get(k.tag);
    if (def) {
      const c = condition(`v.${def.col}`, def.vr, k.value, params);
      if (c) conds.push(c);
    } else if (k.tag === TAG_MODALITIES_IN_STUDY && k.value && k.value !== '*') {
      const c = condition('m.modality', 'CS', k.value, params);
      if (c) {
        conds.push(`v.study_instance_uid in (select m.study_instance_uid from vault_instance m where ${c})`);
      }
    }
  }
  return { sql: conds.length ? conds.join(' and ') : 'true', params };
}

/** Runs a C-FIND against the vault; returns one attribute map per match (values are real, PHI included). */
export async function findMatches(
  vault: Vault,
  id: Identifier,
  limit = 10_000,
): Promise<Record<string, string | null>[]> {
  const { sql, params } = whereOf(id);
  const key = LEVEL_KEY[id.level];
  const cols = [...new Set([...KEYS.values()].map((k) => k.col))]
    .map((c) => (c === key ? `v.${c} as ${c}` : `min(v.${c}) as ${c}`))
    .join(', ');
  const groupKey = id.level === 'PATIENT' ? "coalesce(v.patient_id, ''), v.patient_id" : `v.${key}`;
  const r = await vault.query<Record<string, string | null>>(
    `select ${cols},
            count(*)::text as n_instances,
            count(distinct v.series_instance_uid)::text as n_series,
            count(distinct v.study_instance_uid)::text as n_studies,
            string_agg(distinct v.modality, '\\') as modalities
       from vault_instance v where ${sql}
       group by ${groupKey}
       order by min(v.study_date) nulls last, min(v.received_at)
       limit ${Number(limit)}`,
    params,
  );
  return r.rows;
}

/** Encodes one C-FIND response identifier: every requested key, filled from the match. */
export function encodeMatch(
  id: Identifier,
  row: Record<string, string | null>,
  transferSyntaxUid: string,
  retrieveAeTitle: string,
): Buffer {
  const ts = transferSyntaxOf(transferSyntaxUid);
  const out: SimpleElement[] = [];
  let nonAscii = false;
  const seen = new Set<number>();
  for (const k of id.keys) {
    if (k.tag === TAG_CHARSET || seen.has(k.tag) || k.tag >>> 16 === 0x0002) continue;
    seen.add(k.tag);
    const def = KEYS.get(k.tag);
    let value: string | undefined;
    let vr = def?.vr ?? (k.vr && k.vr !== 'UN' ? k.vr : (lookupTag(k.tag)?.vr ?? 'UN'));
    if (def) value = row[def.col] ?? '';
    else if (k.tag === TAG_QR_LEVEL) value = id.level;
    else if (k.tag === TAG_MODALITIES_IN_STUDY) value = row.modalities ?? '';
    else if (k.tag === TAG_RETRIEVE_AE) value = retrieveAeTitle;
    else if (COUNTS.has(k.tag)) value = row[COUNTS.get(k.tag)!] ?? '';
    if (vr === 'SQ') {
      out.push({ tag: k.tag, vr: 'SQ', value: [] });
      continue;
    }
    if (vr.length !== 2) vr = 'UN';
    const buf = Buffer.from(value ?? '', 'utf8');
    if (buf.length !== (value ?? '').length) nonAscii = true;
    out.push({ tag: k.tag, vr, value: buf });
  }
  if (nonAscii) out.push({ tag: TAG_CHARSET, vr: 'CS', value: 'ISO_IR 192' });
  else if (id.keys.some((k) => k.tag === TAG_CHARSET)) out.push({ tag: TAG_CHARSET, vr: 'CS', value: '' });
  out.sort((a, b) => a.tag - b.tag);
  return encodeElements(out, { littleEndian: ts.littleEndian, explicitVr: ts.explicitVr });
}
