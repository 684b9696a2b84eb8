import { createHash, type Hash } from 'node:crypto';

const INLINE_CHUNK = 256 * 1024;

/**
 * Hashes a byte sequence made of ranges copied into an output buffer and small literals, in order.
 * Each chunk is hashed right before it is copied, so the source is read from memory once.
 */
export interface SpliceHasher {
  /** Copies src[from, to) into target at w, hashing the same bytes. Returns the byte count. */
  copy(src: Buffer, from: number, to: number, target: Buffer, w: number): number;
  /** Hashes bytes that are not (or not yet) in the output. */
  literal(b: Buffer): void;
  /** Hashes bytes already written to the output at [w, w+len). */
  written(target: Buffer, w: number, len: number): void;
  digest(): Buffer;
}

class InlineHasher implements SpliceHasher {
  private readonly h: Hash = createHash('sha256');

  copy(src: Buffer, from: number, to: number, target: Buffer, w: number): number {
    for (let a = from; a < to; a += INLINE_CHUNK) {
      const b = Math.min(to, a + INLINE_CHUNK);
      const piece = src.subarray(a, b);
      this.h.update(piece);
      piece.copy(target, w + (a - from));
    }
    return to - from;
  }

  literal(b: Buffer): void {
    this.h.update(b);
  }

  written(target: Buffer, w: number, len: number): void {
    this.h.update(target.subarray(w, w + len));
  }

  digest(): Buffer {
    return this.h.digest();
  }
}

/**
 * An output buffer and its hasher. A second hashing thread was tried: on this 2-core machine a
 * SharedArrayBuffer output (fresh pages) plus thread hand-off was slower than hashing inline.
 */
export function spliceOutput(size: number): { out: Buffer; hasher: SpliceHasher } {
  return { out: Buffer.allocUnsafe(size), hasher: new InlineHasher() };
}
