import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from '../checksum/digest.stream.js';

export interface StageSource {
  /** Size and checksums the bytes must have. */
  expected: { size: number; adler32: string; sha256: string };
  /** Opens the bytes (e.g. a GET from one replica). */
  open: () => Promise<Readable>;
}

export class StageChecksumError extends Error {
  constructor(detail: string) {
    super(`staged bytes failed verification: ${detail}`);
    this.name = 'StageChecksumError';
  }
}

const ID = /^[0-9a-f]{64}$/;

/**
 * Local cache of staged objects, named by SHA-256, capped in bytes, least recently used evicted first.
 * Every download is verified (size, ADLER32, SHA-256) before it becomes visible by rename.
 */
export class StageCache {
  /** Insertion order is recency order: oldest first. */
  private readonly entries = new Map<string, number>();
  private total = 0;
  private readonly inflight = new Map<string, Promise<string>>();
  private ready: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Rebuilds the index from disk, oldest mtime first; removes partial downloads. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const found: Array<{ id: string; size: number; mtime: number }> = [];
      for (const name of await readdir(this.dir)) {
        const p = join(this.dir, name);
        if (!ID.test(name)) {
          await rm(p, { force: true });
          continue;
        }
        const s = await stat(p);
        found.push({ id: name, size: s.size, mtime: s.mtimeMs });
      }
      found.sort((a, b) => a.mtime - b.mtime);
      for (const f of found) {
        this.entries.set(f.id, f.size);
        this.total += f.size;
      }
      await this.evict(0);
    })();
    return this.ready;
  }

  get usedBytes(): number {
    return this.total;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Ids in eviction order (least recently used first). */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Path of the verified local copy, downloading it from the first source that yields correct bytes.
   * Sources that fail are reported through `onBadSource` (e.g. to mark a replica bad).
   */
  async fetch(
    id: string,
    sources: StageSource[],
    onBadSource?: (index: number, err: Error) => void,
  ): Promise<string> {
    if (!ID.test(id)) throw new Error('stage: object id must be a SHA-256');
    await this.init();
    if (this.entries.has(id)) {
      await this.touch(id);
      return join(this.dir, id);
    }
    let p = this.inflight.get(id);
    if (!p) {
      p = this.download(id, sources, onBadSource).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  /** A stream of the staged object. */
  async open(
    id: string,
    sources: StageSource[],
    onBadSource?: (index: number, err: Error) => void,
  ): Promise<Readable> {
    return createReadStream(await this.fetch(id, sources, onBadSource), { highWaterMark: 1 << 20 });
  }

  private async touch(id: string): Promise<void> {
    const size = this.entries.get(id)!;
    this.entries.delete(id);
    this.entries.set(id, size);
    const now = new Date();
    await utimes(join(this.dir, id), now, now).catch(() => undefined);
  }

  private async download(
    id: string,
    sources: StageSource[],
    onBadSource?: (i: number, e: Error) => void,
  ): Promise<string> {
    let last: Error = new Error('stage: no source to download from');
    for (const [i, src] of sources.entries()) {
      if (src.expected.size > this.maxBytes) throw new Error('stage: object larger than the whole cache');
      const tmp = join(this.dir, `.${id}.${randomBytes(4).toString('hex')}.part`);
      const d = new DigestStream();
      try {
        await this.evict(src.expected.size);
        await pipeline(await src.open(), d, createWriteStream(tmp, { highWaterMark: 1 << 20 }));
        const got = d.digests();
        if (got.size !== src.expected.size)
          throw new StageChecksumError(`size ${got.size}, expected ${src.expected.size}`);
        if (got.adler32 !== src.expected.adler32)
          throw new StageChecksumError(`adler32 ${got.adler32}, expected ${src.expected.adler32}`);
        if (got.sha256 !== src.expected.sha256) throw new StageChecksumError('sha256 differs');
        const final = join(this.dir, id);
        await rename(tmp, final);
        this.entries.set(id, got.size);
        this.total += got.size;
        return final;
      } catch (e) {
        await rm(tmp, { force: true });
        last = e as Error;
        onBadSource?.(i, last);
      }
    }
    throw last;
  }

  /** Evicts least recently used objects until `incoming` more bytes fit under the cap. */
  private async evict(incoming: number): Promise<void> {
    for (const [id, size] of this.entries) {
      if (this.total + incoming <= this.maxBytes) break;
      this.entries.delete(id);
      this.total -= size;
      // An open reader keeps its unlinked file, so evicting under a reader is safe on POSIX.
      await rm(join(this.dir, id), { force: true });
    }
  }
}
