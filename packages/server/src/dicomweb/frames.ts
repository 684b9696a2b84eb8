import { findElement, parseDicom, readNumbers, readString } from '@medgrid/dicom';

/**
 * Frames of an instance (1-based numbers), as WADO-RS returns them: native pixel data cut into frames, or
 * one encapsulated frame per fragment (or all fragments of a single-frame image). Null when the frames
 * cannot be located (several fragments per frame in a multi-frame image) or a number is out of range.
 */
export function framesOf(
  bytes: Buffer,
  wanted: number[],
): { frames: Buffer[]; encapsulated: boolean } | null {
  const p = parseDicom(bytes);
  const pixel = findElement(p.elements, 0x7fe00010);
  if (!pixel) return null;
  const num = (tag: number, def: number) => {
    const el = findElement(p.elements, tag);
    return el ? (readNumbers(p.data, el)[0] ?? def) : def;
  };
  const nfEl = findElement(p.elements, 0x00280008);
  const frameCount = nfEl ? Number.parseInt(readString(p.data, nfEl), 10) || 1 : 1;
  if (wanted.some((n) => !Number.isInteger(n) || n < 1 || n > frameCount)) return null;
  if (pixel.fragments) {
    const frags = pixel.fragments
      .slice(1)
      .map((f) => p.data.subarray(f.valueOffset, f.valueOffset + f.length));
    let perFrame: Buffer[];
    if (frameCount === 1) perFrame = [Buffer.concat(frags)];
    else if (frags.length === frameCount) perFrame = frags;
    else return null;
    return { frames: wanted.map((n) => perFrame[n - 1]!), encapsulated: true };
  }
  const size = (num(0x00280010, 0) * num(0x00280011, 0) * num(0x00280002, 1) * num(0x00280100, 8)) / 8;
  if (!size || pixel.valueLength < size * frameCount) return null;
  return {
    frames: wanted.map((n) =>
      p.data.subarray(pixel.valueOffset + (n - 1) * size, pixel.valueOffset + n * size),
    ),
    encapsulated: false,
  };
}
