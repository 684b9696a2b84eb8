import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const SLOT_MAGIC = 0x5053474d; // 'MGSP'
const SLOT_HEADER = 16; // magic u32, length u32, crc32 u32, reserved u32

/**
 * Durable spool for received instances. Two kinds of entries, both complete and durable before `write`
 * resolves:
 * - slots: pre-allocated, zero-filled files under `slots/` (created and fsynced once). An instance is written
 *   in place with a header (magic, length, CRC-32) through an O_DSYNC descriptor: no new name, no directory fsync, no
 *   journal commit, so the C-STORE response waits for one data flush only. A slot whose header or CRC does not
 *   check out (a write cut short by a crash, which never got Success) is treated as empty.
 * - files, for instances larger than a slot or when every slot is busy: written under `tmp/`, fsynced,
 *   renamed into the spool and the directory fsynced.
 * Ids are `slot-N` or random UUIDs, never anything from the dataset.
 */
export class Spool {
  readonly dir: string;
  private readonly tmp: string;
  private readonly slotDir: string;
  /** The spool directory, kept open so each write costs one directory fsync and no extra open/close. */
  private dirHandle: Promise<fs.FileHandle> | undefined;
  private readonly slots: (fs.FileHandle | undefined)[] = [];
  /** The same slot files opened O_DSYNC: each write returns only once it is on stable storage. */
  private readonly syncSlots: (fs.FileHandle | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Slots that hold an instance found at start-up, until it is processed. */
  private readonly usedSlots = new Set<number>();

  constructor(
    root: string,
    private readonly opts: { slots?: number; slotBytes?: number } = {},
  ) {
    this.dir = root;
    this.tmp = path.join(root, 'tmp');
    this.slotDir = path.join(root, 'slots');
    mkdirSync(this.tmp, { recursive: true });
    mkdirSync(this.slotDir, { recursive: true });
  }

  get slotBytes(): number {
    return this.opts.slotBytes ?? 2 * 1024 * 1024;
  }

  /**
   * Creates missing slot files (zero-filled, fsynced, renamed, directory fsynced) and opens them all. A slot
   * that cannot be created (for example on a nearly full disk) is simply not used.
   */
  async openSlots(): Promise<number> {
    const want = this.opts.slots ?? 32;
    let created = false;
    for (let i = 0; i < want; i++) {
      const name = path.join(this.slotDir, `slot-${i}`);
      if (!existsSync(name)) {
        const tmp = path.join(this.tmp, `slot-${i}.part`);
        try {
          const fd = openSync(tmp, 'w');
          try {
            const zeros = Buffer.alloc(1024 * 1024);
            for (let w = 0; w < this.slotBytes; w += zeros.length)
              writeSync(fd, zeros, 0, Math.min(zeros.length, this.slotBytes - w));
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          renameSync(tmp, name);
          created = true;
        } catch {
          await fs.rm(tmp, { force: true });
          break;
        }
      }
      this.slots[i] = await fs.open(name, 'r+');
      this.syncSlots[i] = await fs.open(name, constants.O_RDWR | constants.O_DSYNC);
    }
    if (created) await syncDir(this.slotDir);
    for (let i = 0; i < this.slots.length; i++)
      if (this.slots[i] && !this.usedSlots.has(i)) this.freeSlots.push(i);
    return this.slots.filter(Boolean).length;
  }

  /** Removes partial files left by a crash (they never got a Success response). */
  async cleanTemp(): Promise<number> {
    const names = await fs.readdir(this.tmp);
    await Promise.all(names.map((n) => fs.rm(path.join(this.tmp, n), { force: true })));
    return names.length;
  }

  /** Writes the parts as one entry; resolves with its id only once it is durably on disk. */
  async write(parts: Buffer[]): Promise<string> {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total + SLOT_HEADER <= this.slotBytes && this.freeSlots.length) {
      // On a write error the slot stays out of service (its header or CRC will not check out).
      const n = this.freeSlots.pop()!;
      const header = Buffer.alloc(SLOT_HEADER);
      let crc = 0;
      for (const p of parts) crc = crc32(p, crc);
      header.writeUInt32LE(SLOT_MAGIC, 0);
      header.writeUInt32LE(total, 4);
      header.writeUInt32LE(crc, 8);
      // O_DSYNC makes write and flush one thread-pool call: a separate fdatasync would wait a second time
      // for the event loop, which is busy de-identifying earlier instances.
      const fh = this.syncSlots[n]!;
      let pending = [header, ...parts];
      let pos = 0;
      while (pending.length) {
        const r = await fh.writev(pending, pos);
        if (r.bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        pos += r.bytesWritten;
        pending = skip(pending, r.bytesWritten);
      }
      return `slot-${n}`;
    }
    return this.writeFile(parts);
  }

  private async writeFile(parts: Buffer[]): Promise<string> {
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
    for (const fh of [...this.slots.splice(0), ...this.syncSlots.splice(0)]) await fh?.close();
    this.freeSlots.length = 0;
  }

  private slotOf(id: string): number | undefined {
    const m = /^slot-(\d+)$/.exec(id);
    return m ? Number(m[1]) : undefined;
  }

  file(id: string): string {
    return path.join(this.dir, `${id}.dcm`);
  }

  /** Reads a slot's content if its header and CRC check out. */
  private async readSlot(n: number): Promise<Buffer | undefined> {
    const fh = this.slots[n];
    if (!fh) return undefined;
    const header = Buffer.alloc(SLOT_HEADER);
    await fh.read(header, 0, SLOT_HEADER, 0);
    if (header.readUInt32LE(0) !== SLOT_MAGIC) return undefined;
    const len = header.readUInt32LE(4);
    if (len + SLOT_HEADER > this.slotBytes) return undefined;
    const data = Buffer.alloc(len);
    const r = await fh.read(data, 0, len, SLOT_HEADER);
    if (r.bytesRead !== len || crc32(data) !== header.readUInt32LE(8)) return undefined;
    return data;
  }

  async read(id: string): Promise<Buffer> {
    const n = this.slotOf(id);
    if (n === undefined) return fs.readFile(this.file(id));
    const data = await this.readSlot(n);
    if (!data) throw Object.assign(new Error('spool slot is empty'), { code: 'ENOENT' });
    return data;
  }

  /** Drops an entry once it is safely processed (a slot is cleared without fsync: re-processing is idempotent). */
  async remove(id: string): Promise<void> {
    const n = this.slotOf(id);
    if (n === undefined) {
      await fs.rm(this.file(id), { force: true });
      return;
    }
    await this.slots[n]?.write(Buffer.alloc(4), 0, 4, 0);
    this.usedSlots.delete(n);
    if (this.slots[n] && !this.freeSlots.includes(n)) this.freeSlots.push(n);
  }

  /** Moves an entry that cannot be processed to `failed/` (kept for an operator, out of the way). */
  async quarantine(id: string): Promise<void> {
    await fs.mkdir(path.join(this.dir, 'failed'), { recursive: true });
    const target = path.join(this.dir, 'failed', `${this.slotOf(id) === undefined ? id : randomUUID()}.dcm`);
    if (this.slotOf(id) === undefined) {
      await fs.rename(this.file(id), target).catch(() => undefined);
      return;
    }
    const data = await this.read(id).catch(() => undefined);
    if (data) await fs.writeFile(target, data);
    await this.remove(id);
  }

  /** Ids of complete entries waiting in the spool (slots first, then files oldest first); call after openSlots. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (let n = 0; n < this.slots.length; n++) {
      if (await this.readSlot(n)) {
        out.push(`slot-${n}`);
        this.usedSlots.add(n);
        const i = this.freeSlots.indexOf(n);
        if (i >= 0) this.freeSlots.splice(i, 1);
      }
    }
    const names = (await fs.readdir(this.dir)).filter((n) => n.endsWith('.dcm'));
    const stats = await Promise.all(
      names.map(async (n) => ({ n, t: (await fs.stat(path.join(this.dir, n))).mtimeMs })),
    );
    return [...out, ...stats.sort((a, b) => a.t - b.t).map((s) => s.n.slice(0, -4))];
  }

  /** Number of slot files in service. */
  get slotCount(): number {
    return this.slots.filter(Boolean).length;
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
