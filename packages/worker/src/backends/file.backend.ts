import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DigestStream, digestFile } from '../checksum/digest.stream.js';
import type { ByteSource, ObjectStat, PutOptions, PutResult, StorageBackend } from './backend.types.js';
import { safePath } from './path.util.js';
import { StorageError } from './storage.error.js';

/** Suffix of in-flight uploads; they become visible only by rename. */
export const PART_SUFFIX = '.medgrid-part';

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A local directory as an SE: the embedded default. Writes are atomic (temp file, fsync, rename, fsync dir). */
export class FileBackend implements StorageBackend {
  readonly name: string;
  readonly url: string;
  readonly root: string;

  constructor(url: string, opts: { name?: string } = {}) {
    this.url = url;
    this.root = url.startsWith('file:') ? fileURLToPath(url) : url;
    this.name = opts.name ?? 'local';
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : join(this.root, ...rel.split('/'));
  }

  private wrap(op: string, e: unknown): StorageError {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new StorageError(this.name, 'not-found', `not found (${op})`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM')
      return new StorageError(this.name, 'credentials-refused', `credentials refused (${op}: ${code})`, {
        cause: e,
      });
    if (code === 'ENOSPC' || code === 'EIO' || code === 'EMFILE')
      return new StorageError(this.name, 'unavailable', `unavailable, try again later (${op}: ${code})`, {
        cause: e,
      });
    return new StorageError(this.name, 'protocol', `${op} failed: ${code ?? String(e)}`, { cause: e });
  }

  async put(source: ByteSource, path: string, size?: number, opts: PutOptions = {}): Promise<PutResult> {
    const rel = safePath(path);
    if (rel === '') throw new Error('put needs an object path');
    const target = this.abs(rel);
    const tmp = `${target}.${randomBytes(6).toString('hex')}${PART_SUFFIX}`;
    const digest = new DigestStream();
    try {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(
        source,
        digest,
        createWriteStream(tmp, { flags: 'wx', flush: true, highWaterMark: 1 << 20 }),
      );
      const local = digest.digests();
      if (size !== undefined && local.size !== size)
        throw new StorageError(
          this.name,
          'size-mismatch',
          `PUT ${rel}: ${local.size} bytes read, ${size} declared`,
        );
      if (opts.expect?.sha256 && opts.expect.sha256 !== local.sha256)
        throw new StorageError(
          this.name,
          'checksum-mismatch',
          `PUT ${rel}: source SHA-256 differs from the expected one`,
        );
      if (opts.expect?.adler32 && opts.expect.adler32 !== local.adler32)
        throw new StorageError(
          this.name,
          'checksum-mismatch',
          `PUT ${rel}: source ADLER32 differs from the expected one`,
        );
      await rename(tmp, target);
      await fsyncDir(dirname(target));
      // Read back what landed, as for a remote SE.
      const back = await digestFile(target);
      if (back.size !== local.size || back.adler32 !== local.adler32) {
        await rm(target, { force: true });
        throw new StorageError(
          this.name,
          'checksum-mismatch',
          `PUT ${rel}: stored bytes differ from those sent`,
        );
      }
      return { ...local, path: rel, verifiedAt: new Date() };
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw e instanceof StorageError ? e : this.wrap('PUT', e);
    }
  }

  async get(path: string): Promise<Readable> {
    const rel = safePath(path);
    const p = this.abs(rel);
    // Open first so a missing file fails here, not later in the consumer's pipeline.
    const fh = await open(p, 'r').catch((e) => {
      throw this.wrap('GET', e);
    });
    return fh.createReadStream({ highWaterMark: 1 << 20 });
  }

  async stat(path: string, opts: { checksum?: boolean } = {}): Promise<ObjectStat | null> {
    const rel = safePath(path);
    try {
      const s = await stat(this.abs(rel));
      const st: ObjectStat = { path: rel, size: s.size, isDir: s.isDirectory(), mtime: s.mtime };
      if (!st.isDir && opts.checksum !== false) st.adler32 = (await digestFile(this.abs(rel))).adler32;
      return st;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.wrap('HEAD', e);
    }
  }

  async delete(path: string): Promise<boolean> {
    const rel = safePath(path);
    if (rel === '') throw new Error('refusing to delete the SE root');
    try {
      await rm(this.abs(rel));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.wrap('DELETE', e);
    }
  }

  async *list(prefix = ''): AsyncIterable<ObjectStat> {
    const start = this.abs(safePath(prefix));
    let entries: string[];
    try {
      entries = (await readdir(start, { recursive: true })) as string[];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'ENOTDIR') {
        const st = await this.stat(prefix, { checksum: false });
        if (st) yield st;
        return;
      }
      throw this.wrap('LIST', e);
    }
    for (const name of entries.sort()) {
      const p = join(start, name);
      const s = await stat(p).catch(() => undefined);
      if (!s || s.isDirectory()) continue;
      yield { path: relative(this.root, p).split(sep).join('/'), size: s.size, isDir: false, mtime: s.mtime };
    }
  }

  async mkdirs(path: string): Promise<void> {
    await mkdir(this.abs(safePath(path)), { recursive: true });
  }

  async move(from: string, to: string): Promise<void> {
    const src = this.abs(safePath(from));
    const dst = this.abs(safePath(to));
    try {
      await mkdir(dirname(dst), { recursive: true });
      await rename(src, dst);
    } catch (e) {
      throw this.wrap('MOVE', e);
    }
  }

  async close(): Promise<void> {}
}
