/** A measurement as the side panel lists it (values from Cornerstone's cached statistics). */
export interface MeasurementRow {
  uid: string;
  tool: string;
  /**
   * The drawing is finished and the statistics belong to its final handles. Cornerstone computes statistics at
   * the next render, so the row it sends on mouse-up can still hold those of the last drag position.
   */
  final: boolean;
  /**
   * The shape reaches beyond the image. Cornerstone then computes no statistics, so the row says so instead of
   * keeping the numbers of an earlier, smaller shape.
   */
  outside: boolean;
  parts: { label: 'length' | 'angle' | 'area' | 'mean' | 'stdDev' | 'min' | 'max'; value: string }[];
}

type Stats = Record<string, unknown>;
const n = (v: unknown, digits: number) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : null;

export function measurementOf(
  annotation: {
    annotationUID?: string;
    invalidated?: boolean;
    metadata: { toolName: string };
    data: { cachedStats?: Record<string, Stats> };
  },
  completed = false,
): MeasurementRow | null {
  const stats = Object.values(annotation.data.cachedStats ?? {})[0];
  if (!stats || !annotation.annotationUID) return null;
  const parts: MeasurementRow['parts'] = [];
  const unit = (k: string) => (typeof stats[k] === 'string' ? ` ${stats[k]}` : '');
  const length = n(stats.length, 2);
  if (length) parts.push({ label: 'length', value: `${length}${unit('unit')}` });
  const angle = n(stats.angle, 1);
  if (angle) parts.push({ label: 'angle', value: `${angle}°` });
  const area = n(stats.area, 2);
  if (area) parts.push({ label: 'area', value: `${area}${unit('areaUnit')}` });
  for (const k of ['mean', 'stdDev', 'min', 'max'] as const) {
    const v = n(stats[k], 1);
    if (v) parts.push({ label: k, value: `${v}${unit('modalityUnit')}` });
  }
  const final = completed && annotation.invalidated !== true;
  // No numbers while drawing is in progress (an angle's second leg, say); only a final shape is "outside".
  if (!parts.length && !final) return null;
  return {
    uid: annotation.annotationUID,
    tool: annotation.metadata.toolName,
    final,
    outside: !parts.length,
    parts,
  };
}
