/** What display order needs to know of one instance. */
export interface SliceInfo {
  instanceNumber: number | null;
  frames: number;
  /** Image Position / Orientation (Patient), when known. */
  position?: number[];
  orientation?: number[];
}

const byInstanceNumber = (a: SliceInfo, b: SliceInfo) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0);

/**
 * Display order of a series' instances, shared by the viewer and the server's first-image preview so both
 * pick the same slice. Single-frame slices that share one orientation are ordered by their position along the
 * slice normal, so a series whose InstanceNumbers are missing, repeated or out of step with the geometry still
 * scrolls through space in order; the direction follows InstanceNumber (the acquisition's own first slice
 * stays first), ascending along the normal when there are none. Anything else (multi-frame, no geometry, mixed
 * orientations, two slices at one position) keeps InstanceNumber order. Stable: ties keep the input order.
 */
export function sliceOrder<T extends SliceInfo>(instances: readonly T[]): T[] {
  const byNumber = [...instances].sort(byInstanceNumber);
  const o = byNumber[0]?.orientation;
  if (byNumber.length < 2 || !o) return byNumber;
  const normal = [
    o[1]! * o[5]! - o[2]! * o[4]!,
    o[2]! * o[3]! - o[0]! * o[5]!,
    o[0]! * o[4]! - o[1]! * o[3]!,
  ];
  const same = (p: number[]) => p.every((x, k) => Math.abs(x - o[k]!) < 1e-3);
  if (!byNumber.every((i) => i.frames === 1 && i.position && i.orientation && same(i.orientation)))
    return byNumber;
  const along = new Map(
    byNumber.map((i) => [i, i.position!.reduce((d, x, k) => d + x * normal[k]!, 0)] as const),
  );
  const sorted = [...byNumber].sort((a, b) => along.get(a)! - along.get(b)!);
  for (let k = 1; k < sorted.length; k++)
    if (Math.abs(along.get(sorted[k]!)! - along.get(sorted[k - 1]!)!) < 1e-4) return byNumber;
  const first = byNumber[0]!;
  const last = byNumber[byNumber.length - 1]!;
  const numbered = first.instanceNumber !== null && last.instanceNumber !== first.instanceNumber;
  return numbered && along.get(first)! > along.get(last)! ? sorted.reverse() : sorted;
}

/** A DS multi-value ("a\b\c") as exactly `n` finite numbers, else undefined. */
export function dsVector(value: string | null | undefined, n: number): number[] | undefined {
  if (!value) return undefined;
  const v = value.split('\\').map((s) => Number(s.trim()));
  return v.length === n && v.every(Number.isFinite) ? v : undefined;
}
