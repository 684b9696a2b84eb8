import { keywordOf, lookupTag } from '@medgrid/dicom/dictionary';
import type { DataSet, Element } from 'dicom-parser';

/** One row of the tag browser; `depth` > 0 for elements inside sequence items. */
export interface TagRow {
  tag: string;
  keyword: string;
  vr: string;
  value: string;
  depth: number;
}

const TEXT_VRS = new Set([
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
const MAX_VALUE = 120;

/** (gggg,eeee) from dicom-parser's `xggggeeee`. */
export function formatTag(key: string): string {
  const hex = key.slice(1).toUpperCase();
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

function displayValue(ds: DataSet, el: Element, vr: string): string {
  const key = el.tag;
  if (el.items) return `${el.items.length} item(s)`;
  if (el.fragments) return `${el.fragments.length} fragment(s), encapsulated`;
  if (key === 'x7fe00010') return `${el.length} bytes`;
  const many = (n: number, read: (i: number) => number | undefined) =>
    Array.from({ length: Math.min(n, 16) }, (_, i) => read(i))
      .filter((v) => v !== undefined)
      .join('\\');
  switch (vr) {
    case 'US':
      return many(el.length / 2, (i) => ds.uint16(key, i));
    case 'SS':
      return many(el.length / 2, (i) => ds.int16(key, i));
    case 'UL':
      return many(el.length / 4, (i) => ds.uint32(key, i));
    case 'SL':
      return many(el.length / 4, (i) => ds.int32(key, i));
    case 'FL':
      return many(el.length / 4, (i) => ds.float(key, i));
    case 'FD':
      return many(el.length / 8, (i) => ds.double(key, i));
    case 'AT':
      return many(el.length / 4, (i) => {
        const g = ds.uint16(key, i * 2);
        const e = ds.uint16(key, i * 2 + 1);
        return g === undefined || e === undefined ? undefined : (g << 16) + e;
      });
    default:
      if (TEXT_VRS.has(vr)) return ds.string(key) ?? '';
      return `${el.length} bytes`;
  }
}

/** Every element of a dicom-parser data set (sequences expanded), for the tag browser. */
export function tagRows(ds: DataSet, depth = 0): TagRow[] {
  const rows: TagRow[] = [];
  for (const key of Object.keys(ds.elements).sort()) {
    const el = ds.elements[key]!;
    const num = Number.parseInt(key.slice(1), 16);
    const keyword = keywordOf(num);
    // Implicit VR data sets carry no VR: take the dictionary's.
    const vr = el.vr ?? (el.items ? 'SQ' : (lookupTag(num)?.vr ?? 'UN'));
    let value = displayValue(ds, el, vr);
    if (value.length > MAX_VALUE) value = `${value.slice(0, MAX_VALUE)}…`;
    rows.push({ tag: formatTag(key), keyword, vr, value, depth });
    for (const item of el.items ?? []) if (item.dataSet) rows.push(...tagRows(item.dataSet, depth + 1));
  }
  return rows;
}
