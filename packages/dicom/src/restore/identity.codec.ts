import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DicomError } from '../errors/dicom.error.js';

/** One splice: `length` bytes at `offset` of the de-identified dataset were `original` in the source. */
export interface IdentityEdit {
  offset: number;
  length: number;
  original: Buffer;
}

/**
 * What restore needs to rebuild the original file byte for byte: the original preamble and file meta, the
 * original bytes of every changed range of the dataset (no pixel data), and how to re-deflate if needed.
 */
export interface IdentityRecord {
  version: 1;
  sha256: Buffer;
  originalLength: number;
  /** Bytes before the dataset in the original: preamble, DICM and file meta (empty for a bare dataset). */
  prefix: Buffer;
  /** Deflated transfer syntax: the zlib level that reproduces the original stream, or the stream itself. */
  deflate: { level: number } | { stored: Buffer } | undefined;
  /** Length of the (inflated) de-identified dataset the edits refer to. */
  deidDatasetLength: number;
  edits: IdentityEdit[];
  newSopInstanceUid: string;
}

const MAGIC = 'MGID';
const FLAG_COMPRESSED = 1;
const FLAG_DEFLATE_LEVEL = 2;
const FLAG_DEFLATE_STORED = 4;

class Writer {
  private buf = Buffer.allocUnsafe(1024);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  bytes(b: Buffer): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new DicomError('BAD_IDENTITY', 'identity record is truncated');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
    throw new DicomError('BAD_IDENTITY', 'identity record has a bad number');
  }

  bytes(): Buffer {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new DicomError('BAD_IDENTITY', 'identity record is truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** Serialises an identity record to a compact binary form (deflated when that helps). */
export function encodeIdentity(rec: IdentityRecord): Buffer {
  const w = new Writer();
  w.bytes(rec.sha256);
  w.varint(rec.originalLength);
  w.bytes(rec.prefix);
  if (rec.deflate && 'level' in rec.deflate) w.varint(rec.deflate.level);
  if (rec.deflate && 'stored' in rec.deflate) w.bytes(rec.deflate.stored);
  w.varint(rec.deidDatasetLength);
  w.bytes(Buffer.from(rec.newSopInstanceUid, 'latin1'));
  w.varint(rec.edits.length);
  let prevEnd = 0;
  for (const e of rec.edits) {
    w.varint(e.offset - prevEnd);
    w.varint(e.length);
    w.bytes(e.original);
    prevEnd = e.offset + e.length;
  }
  let body = w.result();
  let flags = 0;
  if (rec.deflate) flags |= 'level' in rec.deflate ? FLAG_DEFLATE_LEVEL : FLAG_DEFLATE_STORED;
  if (body.length > 256) {
    const z = deflateRawSync(body, { level: 1 });
    if (z.length < body.length) {
      body = z;
      flags |= FLAG_COMPRESSED;
    }
  }
  const head = Buffer.from([0x4d, 0x47, 0x49, 0x44, rec.version, flags]);
  return Buffer.concat([head, body]);
}

export function decodeIdentity(buf: Buffer): IdentityRecord {
  if (!Buffer.isBuffer(buf) || buf.length < 6 || buf.toString('latin1', 0, 4) !== MAGIC) {
    throw new DicomError('BAD_IDENTITY', 'not a MedGrid identity record');
  }
  if (buf[4] !== 1) throw new DicomError('BAD_IDENTITY', `unsupported identity record version ${buf[4]}`);
  const flags = buf[5]!;
  let body = buf.subarray(6);
  if (flags & FLAG_COMPRESSED) {
    try {
      body = inflateRawSync(body, { maxOutputLength: 256 << 20 });
    } catch {
      throw new DicomError('BAD_IDENTITY', 'identity record does not inflate');
    }
  }
  const r = new Reader(body);
  const sha256 = Buffer.from(r.bytes());
  if (sha256.length !== 32) throw new DicomError('BAD_IDENTITY', 'identity record has a bad digest');
  const originalLength = r.varint();
  const prefix = Buffer.from(r.bytes());
  let deflate: IdentityRecord['deflate'];
  if (flags & FLAG_DEFLATE_LEVEL) deflate = { level: r.varint() };
  else if (flags & FLAG_DEFLATE_STORED) deflate = { stored: Buffer.from(r.bytes()) };
  const deidDatasetLength = r.varint();
  const newSopInstanceUid = r.bytes().toString('latin1');
  const n = r.varint();
  const edits: IdentityEdit[] = [];
  let prevEnd = 0;
  for (let i = 0; i < n; i++) {
    const offset = prevEnd + r.varint();
    const length = r.varint();
    const original = Buffer.from(r.bytes());
    if (offset + length > deidDatasetLength)
      throw new DicomError('BAD_IDENTITY', 'identity edit out of range');
    edits.push({ offset, length, original });
    prevEnd = offset + length;
  }
  return { version: 1, sha256, originalLength, prefix, deflate, deidDatasetLength, edits, newSopInstanceUid };
}
