// ADLER32 as in zlib (RFC 1950): the grid's standard checksum, which XRootD, dCache and FTS compare.
const BASE = 65521;
// Block length after which the sums are reduced modulo BASE. zlib uses 5552 (sums below 2^32); 3800 keeps
// b below 2^31 (65520 + 3800*65520 + 255*3800*3801/2 < 2^31), so V8 stays in int32 arithmetic: twice as fast.
const BLOCK = 3800;

/** Folds `buf` into a running ADLER32 value (start with 1). Same result as zlib's adler32(adler, buf, len). */
export function adler32Update(adler: number, buf: Uint8Array): number {
  let a = adler & 0xffff;
  let b = (adler >>> 16) & 0xffff;
  const len = buf.length;
  let i = 0;
  while (i < len) {
    const end = Math.min(i + BLOCK, len);
    const end8 = end - ((end - i) & 7);
    while (i < end8) {
      a = (a + buf[i]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 1]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 2]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 3]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 4]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 5]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 6]!) | 0;
      b = (b + a) | 0;
      a = (a + buf[i + 7]!) | 0;
      b = (b + a) | 0;
      i += 8;
    }
    while (i < end) {
      a = (a + buf[i++]!) | 0;
      b = (b + a) | 0;
    }
    a %= BASE;
    b %= BASE;
  }
  return ((b << 16) | a) >>> 0;
}

/** ADLER32 of one buffer. */
export function adler32(buf: Uint8Array): number {
  return adler32Update(1, buf);
}

/**
 * zlib's adler32_combine: the ADLER32 of A||B from adler32(A), adler32(B) and B's length.
 * `len2` is a plain number, so lengths above 4 GiB work (zlib's z_off64_t semantics).
 */
export function adler32Combine(adler1: number, adler2: number, len2: number): number {
  if (len2 < 0) return 0xffffffff;
  const rem = len2 % BASE;
  let sum1 = adler1 & 0xffff;
  let sum2 = (rem * sum1) % BASE;
  sum1 += (adler2 & 0xffff) + BASE - 1;
  sum2 += ((adler1 >>> 16) & 0xffff) + ((adler2 >>> 16) & 0xffff) + BASE - rem;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum1 >= BASE) sum1 -= BASE;
  if (sum2 >= BASE * 2) sum2 -= BASE * 2;
  if (sum2 >= BASE) sum2 -= BASE;
  return (sum1 + sum2 * 65536) >>> 0;
}

/** Eight lower-case hex digits, as XRootD's `Digest: adler32=` and Rucio spell it. */
export function adler32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** Running ADLER32 over any number of chunks. */
export class Adler32 {
  private value = 1;
  update(buf: Uint8Array): this {
    this.value = adler32Update(this.value, buf);
    return this;
  }
  digest(): number {
    return this.value;
  }
  hex(): string {
    return adler32Hex(this.value);
  }
}
