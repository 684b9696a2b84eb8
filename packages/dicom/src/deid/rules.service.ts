import { type AnnexERow, annexERow, privateAttributesRow } from '../dict/annex-e.table.js';
import type { OptionKey } from '../dict/annex-e.types.js';
import type { DeidOptions } from './profile.model.js';

export type Action = 'X' | 'Z' | 'D' | 'K' | 'C' | 'U';

const OPTION_COLUMNS: [keyof DeidOptions, OptionKey][] = [
  ['retainLongitudinalFullDates', 'rtnLongFullDatesOpt'],
  ['retainLongitudinalModifiedDates', 'rtnLongModifDatesOpt'],
  ['cleanDescriptors', 'cleanDescOpt'],
  ['retainUids', 'rtnUIDsOpt'],
  ['retainDeviceIdentity', 'rtnDevIdOpt'],
  ['retainPatientCharacteristics', 'rtnPatCharsOpt'],
  ['retainInstitutionIdentity', 'rtnInstIdOpt'],
  ['cleanGraphics', 'cleanGraphOpt'],
  ['cleanStructuredContent', 'cleanStructContOpt'],
  ['retainSafePrivate', 'rtnSafePrivOpt'],
];

/**
 * Resolves a basic-profile code to one action. Without per-IOD type information we take the choice that is
 * conformant whatever the attribute's type: Z keeps Type 2 present, D keeps Type 1 non-empty, and both are
 * allowed for Type 3. X/Z/U* sequences are kept with their UIDs remapped.
 */
export function resolveBasic(code: string): Action {
  switch (code) {
    case 'X/Z':
      return 'Z';
    case 'X/D':
    case 'Z/D':
    case 'X/Z/D':
      return 'D';
    case 'X/Z/U*':
      return 'U';
    default:
      return code as Action;
  }
}

/** Effective action for a row under the enabled options: any option's K wins, then C, then the basic code. */
export function actionForRow(row: AnnexERow, options: DeidOptions): Action {
  let clean = false;
  for (const [opt, col] of OPTION_COLUMNS) {
    if (!options[opt]) continue;
    const a = row.opts[col];
    if (a === 'K') return 'K';
    if (a === 'C') clean = true;
  }
  return clean ? 'C' : resolveBasic(row.basic);
}

export function actionForTag(
  tag: number,
  options: DeidOptions,
): { action: Action; row: AnnexERow } | undefined {
  if ((tag >>> 16) & 1)
    return { action: actionForRow(privateAttributesRow(), options), row: privateAttributesRow() };
  const row = annexERow(tag);
  if (!row) return undefined;
  return { action: actionForRow(row, options), row };
}
