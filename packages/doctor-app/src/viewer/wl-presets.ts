/** Window/level presets by modality (width, centre in output units: HU for CT). Key = i18n key under viewer.presets. */
export interface WlPreset {
  key: string;
  window: number;
  level: number;
}

const CT: WlPreset[] = [
  { key: 'brain', window: 80, level: 40 },
  { key: 'softTissue', window: 400, level: 40 },
  { key: 'lung', window: 1500, level: -600 },
  { key: 'bone', window: 2000, level: 300 },
  { key: 'liver', window: 150, level: 30 },
  { key: 'mediastinum', window: 350, level: 50 },
];
const MR: WlPreset[] = [
  { key: 'lowContrast', window: 400, level: 200 },
  { key: 'mediumContrast', window: 800, level: 400 },
  { key: 'highContrast', window: 1600, level: 800 },
];
const XRAY: WlPreset[] = [
  { key: 'lowContrast', window: 4096, level: 2048 },
  { key: 'highContrast', window: 1024, level: 512 },
];

const BY_MODALITY: Record<string, WlPreset[]> = {
  CT,
  PT: [{ key: 'suv', window: 10, level: 5 }],
  MR,
  CR: XRAY,
  DX: XRAY,
  MG: XRAY,
  XA: XRAY,
  RF: XRAY,
};

export function presetsFor(modality: string): WlPreset[] {
  return BY_MODALITY[modality.toUpperCase()] ?? [];
}

/** VOI range Cornerstone takes, from width and centre (DICOM C.11.2.1.2, linear). */
export function voiRangeOf(window: number, level: number): { lower: number; upper: number } {
  return { lower: level - window / 2, upper: level + window / 2 };
}

export function windowLevelOf(range: { lower: number; upper: number }): { window: number; level: number } {
  return { window: range.upper - range.lower, level: (range.upper + range.lower) / 2 };
}
