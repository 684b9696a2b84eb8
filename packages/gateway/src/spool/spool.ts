import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Durable spool for received instances. A file is written under `tmp/`, fsynced, renamed into the
 * spool and the directory fsynced, so a file in the spool is always complete. Names are random ids,
 * never anything from the dataset.
 */
export class Spool {
  readonly dir: string;
  private readonly tmp: string;
  /** The spool directory, kept open so each write costs one directory fsync and no extra open/close. */
  private dirHandle: Promise<fs.FileHandle> | undefined;

  constructor(root: string) {
    this.dir = root;
    this.tmp = path.join(root, 'tmp');
    mkdirSync(this.tmp, { recursive: true });
  }

  /** Removes partial files left by a crash (they never got a Success response). */
  async cleanTemp(): Promise<number> {
    const names = await fs.readdir(this.tmp);
    await Promise.all(names.map((n) => fs.rm(path.join(this.tmp, n), { force: true })));
    return names.length;
  }

  /** Writes the parts as one file; resolves with its id only once the file and its name are on disk. */
  async write(parts: Buffer[]): Promise<string> {
    const id = randomUUID();
    const tmpFile = path.join(this.tmp, `${id}.part`);
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(tmpFile, 'w');
      let total = 0;
      for (const p of parts) total += p.length;
      let written = 0;
      // writev may write less than asked (for example when the disk fills up): loop or fail.
      let pending = parts;
      while (written < total) {
        const r = await fh.writev(pending);
        if (r.bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        written += r.bytesWritten;
        pending = skip(pending, r.bytesWritten);
      }
      await fh.datasync();
      await fh.close();
      fh = undefined;
      await fs.rename(tmpFile, path.join(this.dir, `${id}.dcm`));
      this.dirHandle ??= fs.open(this.dir, 'r').catch((err: unknown) => {
        this.dirHandle = undefined;
        throw err;
      });
      await (await this.dirHandle).sync();
      return id;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await fs.rm(tmpFile, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const h = this.dirHandle;
    this.dirHandle = undefined;
    await (await h)?.close();
  }

  file(id: string): string {
    return path.join(this.dir, `${id}.dcm`);
  }

  async read(id: string): Promise<Buffer> {
    return fs.readFile(this.file(id));
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
  }

  /** Ids of complete files waiting in the spool, oldest first. */
  async list(): Promise<string[]> {
    const names = (await fs.readdir(this.dir)).filter((n) => n.endsWith('.dcm'));
    const stats = await Promise.all(
      names.map(async (n) => ({ n, t: (await fs.stat(path.join(this.dir, n))).mtimeMs })),
    );
    return stats.sort((a, b) => a.t - b.t).map((s) => s.n.slice(0, -4));
  }
}

function skip(parts: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}

export async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
