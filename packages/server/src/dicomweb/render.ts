import { crc32, deflateSync } from 'node:zlib';
import { findElement, parseDicom, readNumbers, readString } from '@medgrid/dicom';
import { framesOf } from './frames.js';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** An 8-bit grayscale PNG. */
export function grayPng(width: number, height: number, pixels: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * Renders the first frame of a native (uncompressed) monochrome image as a PNG of at most `size` pixels a side:
 * rescale slope/intercept, a window from the image's own WindowCenter/Width or else its min/max, MONOCHROME1
 * inverted. Returns null for encapsulated or colour images (not rendered here).
 */
export function renderThumbnail(bytes: Buffer, size = 128): Buffer | null {
  const got = framesOf(bytes, [1]);
  if (!got || got.encapsulated) return null;
  const p = parseDicom(bytes);
  const num = (tag: number, def: number) => {
    const el = findElement(p.elements, tag);
    return el ? (readNumbers(p.data, el)[0] ?? def) : def;
  };
  const str = (tag: number) => {
    const el = findElement(p.elements, tag);
    return el ? readString(p.data, el) : '';
  };
  const rows = num(0x00280010, 0);
  const cols = num(0x00280011, 0);
  const bits = num(0x00280100, 8);
  const signed = num(0x00280103, 0) === 1;
  const photometric = str(0x00280004).trim();
  if (num(0x00280002, 1) !== 1 || !rows || !cols || !/^MONOCHROME[12]$/.test(photometric)) return null;
  const frame = got.frames[0]!;
  const le = p.transferSyntax.littleEndian;
  const slope = Number.parseFloat(str(0x00281053)) || 1;
  const intercept = Number.parseFloat(str(0x00281052)) || 0;
  const value = (i: number): number => {
    let v: number;
    if (bits === 8) v = signed ? frame.readInt8(i) : frame[i]!;
    else if (bits === 16)
      v = signed
        ? le
          ? frame.readInt16LE(i * 2)
          : frame.readInt16BE(i * 2)
        : le
          ? frame.readUInt16LE(i * 2)
          : frame.readUInt16BE(i * 2);
    else return Number.NaN;
    return v * slope + intercept;
  };
  const scale = Math.max(1, Math.ceil(Math.max(rows, cols) / size));
  const w = Math.floor(cols / scale);
  const h = Math.floor(rows / scale);
  const sample = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) sample[y * w + x] = value(y * scale * cols + x * scale);
  if (sample.some((v) => Number.isNaN(v))) return null;
  let lo: number;
  let hi: number;
  const wc = Number.parseFloat(str(0x00281050).split('\\')[0] ?? '');
  const ww = Number.parseFloat(str(0x00281051).split('\\')[0] ?? '');
  if (Number.isFinite(wc) && Number.isFinite(ww) && ww > 1) {
    lo = wc - ww / 2;
    hi = wc + ww / 2;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (const v of sample) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Uint8Array(w * h);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < out.length; i++) {
    const g = Math.round(Math.min(1, Math.max(0, (sample[i]! - lo) / span)) * 255);
    out[i] = photometric === 'MONOCHROME1' ? 255 - g : g;
  }
  return grayPng(w, h, out);
}
