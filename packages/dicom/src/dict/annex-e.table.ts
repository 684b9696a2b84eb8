import tableJson from './annex-e.generated.json' with { type: 'json' };
import type { AnnexERow, OptionKey } from './annex-e.types.js';

const table = tableJson as { edition: string; rows: AnnexERow[] };

export const ANNEX_E_EDITION: string = table.edition;
export const ANNEX_E_ROWS: readonly AnnexERow[] = table.rows;

const exact = new Map<number, AnnexERow>();
const masks: { mask: number; value: number; row: AnnexERow }[] = [];
let privateRow: AnnexERow | undefined;

for (const row of ANNEX_E_ROWS) {
  if (row.tag === 'private') {
    privateRow = row;
    continue;
  }
  if (row.tag.includes('x')) {
    let mask = 0;
    let value = 0;
    for (const c of row.tag) {
      mask = (mask << 4) | (c === 'x' ? 0 : 0xf);
      value = (value << 4) | (c === 'x' ? 0 : Number.parseInt(c, 16));
    }
    masks.push({ mask: mask >>> 0, value: value >>> 0, row });
  } else exact.set(Number.parseInt(row.tag, 16), row);
}

/** The Table E.1-1 row governing a standard tag, if any. Masks (50xx,xxxx), (60xx,3000/4000) cover repeating groups. */
export function annexERow(tag: number): AnnexERow | undefined {
  const r = exact.get(tag);
  if (r) return r;
  for (const m of masks) if ((tag & m.mask) >>> 0 === m.value) return m.row;
  return undefined;
}

export function privateAttributesRow(): AnnexERow {
  return privateRow!;
}

export type { AnnexERow, OptionKey };
