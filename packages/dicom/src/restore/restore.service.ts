import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DicomError } from '../errors/dicom.error.js';
import { type SpliceHasher, spliceOutput } from '../hash/splice-hash.service.js';
import { decodeIdentity, type IdentityRecord } from './identity.codec.js';

/** End of the file meta (start of the dataset) in a Part 10 file; 0 for a bare dataset. */
export function datasetOffset(bytes: Buffer): number {
  let pos: number;
  if (bytes.length >= 132 && bytes.toString('latin1', 128, 132) === 'DICM') pos = 132;
  else if (bytes.length >= 8 && bytes.readUInt16LE(0) === 0x0002 && bytes.toString('latin1', 4, 6) === 'UL')
    pos = 0;
  else return 0;
  while (pos + 8 <= bytes.length && bytes.readUInt16LE(pos) === 0x0002) {
    const vr = bytes.toString('latin1', pos + 4, pos + 6);
    let len: number;
    let head: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr)) {
      if (pos + 12 > bytes.length) break;
      len = bytes.readUInt32LE(pos + 8);
      head = 12;
    } else {
      len = bytes.readUInt16LE(pos + 6);
      head = 8;
    }
    pos += head + len;
  }
  if (pos > bytes.length) throw new DicomError('TRUNCATED', 'file meta runs past the end');
  return pos;
}

/**
 * Rebuilds the original file from a de-identified one and its identity record. Only the dataset of the
 * de-identified file is used, so a rewritten file meta (by a store or DICOMweb server) does not matter.
 * Throws SHA_MISMATCH unless the result hashes to the original's SHA-256.
 */
export function restore(deidentified: Buffer, identity: IdentityRecord | Buffer): Buffer {
  const rec = Buffer.isBuffer(identity) ? decodeIdentity(identity) : identity;
  if (!Buffer.isBuffer(deidentified)) throw new DicomError('BAD_ARGUMENT', 'input must be a Buffer');
  let ds = deidentified.subarray(datasetOffset(deidentified));
  if (rec.deflate) {
    try {
      ds = inflateRawSync(ds, { maxOutputLength: rec.deidDatasetLength + 1 });
    } catch {
      throw new DicomError(
        'IDENTITY_MISMATCH',
        'de-identified dataset does not inflate to the recorded length',
      );
    }
  }
  if (ds.length !== rec.deidDatasetLength) {
    throw new DicomError(
      'IDENTITY_MISMATCH',
      'de-identified dataset length differs from the identity record',
    );
  }
  let size = ds.length;
  for (const e of rec.edits) size += e.original.length - e.length;
  let out: Buffer;
  let sha: Buffer;
  if (rec.deflate) {
    const plain = Buffer.allocUnsafe(size);
    splice(ds, rec, plain, 0, undefined);
    const z =
      'stored' in rec.deflate ? rec.deflate.stored : deflateRawSync(plain, { level: rec.deflate.level });
    out = Buffer.concat([rec.prefix, z]);
    sha = createHash('sha256').update(out).digest();
  } else {
    const o = spliceOutput(rec.prefix.length + size);
    out = o.out;
    rec.prefix.copy(out, 0);
    o.hasher.written(out, 0, rec.prefix.length);
    splice(ds, rec, out, rec.prefix.length, o.hasher);
    sha = o.hasher.digest();
  }
  if (out.length !== rec.originalLength)
    throw new DicomError('SHA_MISMATCH', 'restored length differs from the original');
  if (!sha.equals(rec.sha256))
    throw new DicomError('SHA_MISMATCH', 'restored bytes do not match the original SHA-256');
  return out;
}

function splice(
  ds: Buffer,
  rec: IdentityRecord,
  out: Buffer,
  at: number,
  hasher: SpliceHasher | undefined,
): void {
  let r = 0;
  let w = at;
  for (const e of rec.edits) {
    if (e.offset < r || e.offset + e.length > ds.length)
      throw new DicomError('BAD_IDENTITY', 'identity edits out of order');
    w += hasher ? hasher.copy(ds, r, e.offset, out, w) : ds.copy(out, w, r, e.offset);
    const n = e.original.copy(out, w);
    hasher?.written(out, w, n);
    w += n;
    r = e.offset + e.length;
  }
  if (hasher) hasher.copy(ds, r, ds.length, out, w);
  else ds.copy(out, w, r);
}
