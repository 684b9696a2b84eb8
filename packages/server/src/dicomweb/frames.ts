import { findElement, parseDicom, readNumbers, readString } from '@medgrid/dicom';

/**
 * Frames of an instance (1-based numbers), as WADO-RS returns them: native pixel data cut into frames (in
 * little-endian byte order, as `application/octet-stream` means; big-endian objects are swapped), or the
 * encapsulated bytes of each frame: one fragment per frame, all fragments of a single-frame image, or the
 * fragments the Basic Offset Table assigns to each frame. Null when the frames cannot be located (several
 * fragments per frame and no offset table) or a number is out of range.
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
    const [bot, ...items] = pixel.fragments;
    const frags = items.map((f) => p.data.subarray(f.valueOffset, f.valueOffset + f.length));
    let perFrame: Buffer[];
    if (frameCount === 1) perFrame = [Buffer.concat(frags)];
    else if (frags.length === frameCount) perFrame = frags;
    else {
      // Several fragments per frame: the Basic Offset Table gives each frame's first fragment, as an offset
      // from the first fragment's item tag.
      if (!bot || bot.length !== frameCount * 4 || !items[0]) return null;
      const starts = Array.from({ length: frameCount }, (_, i) =>
        p.data.readUInt32LE(bot.valueOffset + i * 4),
      );
      const base = items[0].offset;
      perFrame = starts.map((start, i) => {
        const end = starts[i + 1] ?? Number.POSITIVE_INFINITY;
        return Buffer.concat(
          items
            .filter((f) => f.offset - base >= start && f.offset - base < end)
            .map((f) => p.data.subarray(f.valueOffset, f.valueOffset + f.length)),
        );
      });
      if (perFrame.some((f) => f.length === 0)) return null;
    }
    return { frames: wanted.map((n) => perFrame[n - 1]!), encapsulated: true };
  }
  const bitsAllocated = num(0x00280100, 8);
  const size = (num(0x00280010, 0) * num(0x00280011, 0) * num(0x00280002, 1) * bitsAllocated) / 8;
  if (!size || pixel.valueLength < size * frameCount) return null;
  return {
    frames: wanted.map((n) => {
      const frame = p.data.subarray(pixel.valueOffset + (n - 1) * size, pixel.valueOffset + n * size);
      if (pixel.littleEndian || bitsAllocated <= 8) return frame;
      // Explicit VR big endian: a copy in little-endian order.
      const copy = Buffer.from(frame);
      return bitsAllocated === 32 ? copy.swap32() : copy.swap16();
    }),
    encapsulated: false,
  };
}
