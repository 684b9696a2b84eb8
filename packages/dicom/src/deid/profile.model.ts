import { ANNEX_E_EDITION } from '../dict/annex-e.table.js';

export interface DeidOptions {
  retainLongitudinalFullDates: boolean;
  retainLongitudinalModifiedDates: boolean;
  retainPatientCharacteristics: boolean;
  retainDeviceIdentity: boolean;
  retainInstitutionIdentity: boolean;
  retainUids: boolean;
  retainSafePrivate: boolean;
  cleanDescriptors: boolean;
  cleanStructuredContent: boolean;
  cleanGraphics: boolean;
}

/** A private element judged safe to keep under the Retain Safe Private option. */
export interface SafePrivateTag {
  creator: string;
  group: number;
  /** Low byte of the element number (the block offset), 0x00-0xFF. */
  element: number;
  note: string;
}

/** A named, versioned de-identification configuration. */
export interface DeidProfile {
  name: string;
  version: string;
  /** Edition of PS3.15 Table E.1-1 the rules come from. */
  edition: string;
  options: DeidOptions;
  /** Replace PatientName/PatientID by per-patient pseudonyms instead of emptying them. */
  pseudonymizePatient: boolean;
  safePrivateTags: readonly SafePrivateTag[];
}

export const NO_OPTIONS: DeidOptions = {
  retainLongitudinalFullDates: false,
  retainLongitudinalModifiedDates: false,
  retainPatientCharacteristics: false,
  retainDeviceIdentity: false,
  retainInstitutionIdentity: false,
  retainUids: false,
  retainSafePrivate: false,
  cleanDescriptors: false,
  cleanStructuredContent: false,
  cleanGraphics: false,
};

/** Private elements that carry acquisition physics only (after PS3.15 E.3.10 examples). */
export const DEFAULT_SAFE_PRIVATE: readonly SafePrivateTag[] = [
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c, note: 'B value' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0d, note: 'diffusion directionality' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0e, note: 'diffusion gradient direction' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27, note: 'B matrix' },
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0xbb, note: 'diffusion gradient x' },
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0xbc, note: 'diffusion gradient y' },
  { creator: 'GEMS_ACQU_01', group: 0x0019, element: 0xbd, note: 'diffusion gradient z' },
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x39, note: 'slop integers (b value)' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2001, element: 0x03, note: 'diffusion b factor' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2005, element: 0xb0, note: 'diffusion direction RL' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2005, element: 0xb1, note: 'diffusion direction AP' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2005, element: 0xb2, note: 'diffusion direction FH' },
];

export function defineProfile(
  name: string,
  version: string,
  options: Partial<DeidOptions> = {},
  extra: Partial<Pick<DeidProfile, 'pseudonymizePatient' | 'safePrivateTags'>> = {},
): DeidProfile {
  const o = { ...NO_OPTIONS, ...options };
  if (o.retainLongitudinalFullDates && o.retainLongitudinalModifiedDates) {
    throw new Error('full dates and modified dates options are exclusive');
  }
  return Object.freeze({
    name,
    version,
    edition: ANNEX_E_EDITION,
    options: Object.freeze(o),
    pseudonymizePatient: extra.pseudonymizePatient ?? true,
    safePrivateTags: extra.safePrivateTags ?? DEFAULT_SAFE_PRIVATE,
  });
}

export const BASIC_PROFILE = defineProfile('basic', '1');
/** Research use: shifted dates, patient characteristics, cleaned free text, safe private tags. */
export const RESEARCH_PROFILE = defineProfile('research', '1', {
  retainLongitudinalModifiedDates: true,
  retainPatientCharacteristics: true,
  retainSafePrivate: true,
  cleanDescriptors: true,
  cleanStructuredContent: true,
  cleanGraphics: true,
});
/** Keeps the longitudinal record intact for a single site's archive (full dates, UIDs kept). */
export const LONGITUDINAL_PROFILE = defineProfile('longitudinal', '1', {
  retainLongitudinalFullDates: true,
  retainPatientCharacteristics: true,
  retainDeviceIdentity: true,
  retainInstitutionIdentity: true,
});

export const PROFILES: Readonly<Record<string, DeidProfile>> = {
  basic: BASIC_PROFILE,
  research: RESEARCH_PROFILE,
  longitudinal: LONGITUDINAL_PROFILE,
};

export function profileByName(name: string): DeidProfile | undefined {
  return PROFILES[name];
}

/** CID 7050 codes (PS3.16) for the profile and each option applied. */
export function methodCodes(p: DeidProfile): { code: string; meaning: string }[] {
  const o = p.options;
  const codes = [{ code: '113100', meaning: 'Basic Application Confidentiality Profile' }];
  if (o.cleanGraphics) codes.push({ code: '113103', meaning: 'Clean Graphics Option' });
  if (o.cleanStructuredContent) codes.push({ code: '113104', meaning: 'Clean Structured Content Option' });
  if (o.cleanDescriptors) codes.push({ code: '113105', meaning: 'Clean Descriptors Option' });
  if (o.retainLongitudinalFullDates) {
    codes.push({ code: '113106', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' });
  }
  if (o.retainLongitudinalModifiedDates) {
    codes.push({ code: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' });
  }
  if (o.retainPatientCharacteristics)
    codes.push({ code: '113108', meaning: 'Retain Patient Characteristics Option' });
  if (o.retainDeviceIdentity) codes.push({ code: '113109', meaning: 'Retain Device Identity Option' });
  if (o.retainUids) codes.push({ code: '113110', meaning: 'Retain UIDs Option' });
  if (o.retainSafePrivate) codes.push({ code: '113111', meaning: 'Retain Safe Private Option' });
  if (o.retainInstitutionIdentity)
    codes.push({ code: '113112', meaning: 'Retain Institution Identity Option' });
  return codes;
}
