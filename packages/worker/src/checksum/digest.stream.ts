import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { adler32Hex, adler32Update } from './adler32.util.js';

/** What we record for every object: byte count, ADLER32 (grid) and SHA-256 (exact-restore proof). */
export interface Digests {
  size: number;
  adler32: string;
  sha256: string;
}

/** Pass-through stream that counts bytes and computes ADLER32 and SHA-256 of what flows through it. */
export class DigestStream extends Transform {
  private adler = 1;
  private readonly sha: Hash = createHash('sha256');
  private bytes = 0;
  private result: Digests | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.adler = adler32Update(this.adler, chunk);
    this.sha.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = { size: this.bytes, adler32: adler32Hex(this.adler), sha256: this.sha.digest('hex') };
    cb();
  }

  /** Bytes seen so far (also before the end). */
  get size(): number {
    return this.bytes;
  }

  /** The digests; only valid after the stream has ended. */
  digests(): Digests {
    if (!this.result) throw new Error('digests requested before the stream ended');
    return this.result;
  }
}

/** Consumes a stream and returns its digests. */
export async function digestOf(source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream): Promise<Digests> {
  let adler = 1;
  let size = 0;
  const sha = createHash('sha256');
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    adler = adler32Update(adler, chunk);
    sha.update(chunk);
    size += chunk.length;
  }
  return { size, adler32: adler32Hex(adler), sha256: sha.digest('hex') };
}

/** Digests of a local file, read in 1 MiB chunks. */
export async function digestFile(path: string): Promise<Digests> {
  const d = new DigestStream();
  await pipeline(
    createReadStream(path, { highWaterMark: 1 << 20 }),
    d,
    async (src: AsyncIterable<unknown>) => {
      for await (const _ of src) {
        // drain
      }
    },
  );
  return d.digests();
}
