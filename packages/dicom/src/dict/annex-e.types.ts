export type OptionKey =
  | 'rtnLongFullDatesOpt'
  | 'rtnLongModifDatesOpt'
  | 'cleanDescOpt'
  | 'rtnUIDsOpt'
  | 'rtnDevIdOpt'
  | 'rtnPatCharsOpt'
  | 'rtnInstIdOpt'
  | 'cleanGraphOpt'
  | 'cleanStructContOpt'
  | 'rtnSafePrivOpt';

/** One row of PS3.15 Table E.1-1. `tag` is 8 lowercase hex digits, `x` for mask digits, or 'private'. */
export interface AnnexERow {
  tag: string;
  name: string;
  basic: string;
  opts: Partial<Record<OptionKey, string>>;
}
