import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Streaming multipart/related reader for STOW-RS. Parts stay in memory while the request's parts together fit a
 * budget (`memoryBudget`, default 32 MiB); past it they go to disk as they arrive, so a request of any size costs
 * at most the budget plus one instance when it is ingested. The part files hold identified originals, so they are
 * sealed with AES-256-GCM under a key that lives only in this process's memory: a crash leaves ciphertext nobody
 * can read, and the directory is emptied at start.
 */

export class MultipartError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

export interface SpooledPart {
  contentType: string | undefined;
  /** The sealed file, or null when the part was small enough to stay in memory (`data`). */
  file: string | null;
  data?: Buffer;
  size: number;
}

export const DEFAULT_MEMORY_BUDGET = 32 * 1024 * 1024;

const MAX_HEADER_BYTES = 16 * 1024;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where sealed parts wait for ingest: `<root>/<pid>`, one directory per server process. */
export class PartStore {
  private readonly key = randomBytes(32);
  readonly dir: string;

  constructor(root: string) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    // Left by processes that are gone: sealed under keys that died with them.
    for (const name of readdirSync(root)) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid || !alive(pid))
        rmSync(path.join(root, name), { recursive: true, force: true });
    }
    this.dir = path.join(root, String(process.pid));
    mkdirSync(this.dir, { mode: 0o700 });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  async create(): Promise<PartWriter> {
    const file = path.join(this.dir, randomUUID());
    const fh = await open(file, 'wx', 0o600);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    await fh.write(iv);
    let size = 0;
    return {
      file,
      write: async (chunk: Buffer) => {
        size += chunk.length;
        const enc = cipher.update(chunk);
        if (enc.length) await fh.write(enc);
      },
      end: async () => {
        const rest = cipher.final();
        if (rest.length) await fh.write(rest);
        await fh.write(cipher.getAuthTag());
        await fh.close();
        return size;
      },
      abort: async () => {
        await fh.close().catch(() => undefined);
        await rm(file, { force: true });
      },
    };
  }

  /** The part's plaintext; throws if its file was altered. */
  async read(part: SpooledPart): Promise<Buffer> {
    if (part.file === null) return part.data ?? Buffer.alloc(0);
    const sealed = await readFile(part.file);
    if (sealed.length < 28) throw new MultipartError('stored part is truncated', 500);
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  }

  async remove(parts: readonly SpooledPart[]): Promise<void> {
    await Promise.all(parts.map((p) => (p.file === null ? undefined : rm(p.file, { force: true }))));
  }
}

export interface PartWriter {
  readonly file: string;
  write(chunk: Buffer): Promise<void>;
  end(): Promise<number>;
  abort(): Promise<void>;
  /** The whole part, when it never left memory. */
  memory?(): Buffer | undefined;
}

/**
 * Splits a multipart/related body read from `source` into parts written by `store`, keeping at most one
 * delimiter's worth of bytes plus one chunk in memory. Throws MultipartError (400) on a malformed body and
 * (413) past `limit` bytes; parts already written are then removed.
 */
export async function spoolMultipart(
  source: AsyncIterable<Buffer | string>,
  boundary: string,
  store: Pick<PartStore, 'create'>,
  limit: number,
  memoryBudget = DEFAULT_MEMORY_BUDGET,
): Promise<SpooledPart[]> {
  let inMemory = 0;
  // A part held in memory until the request's budget runs out, then moved to a sealed file.
  const newPart = (): PartWriter => {
    let chunks: Buffer[] = [];
    let size = 0;
    let disk: PartWriter | null = null;
    return {
      get file() {
        return disk?.file ?? '';
      },
      write: async (chunk: Buffer) => {
        size += chunk.length;
        if (!disk && inMemory + chunk.length <= memoryBudget) {
          chunks.push(Buffer.from(chunk));
          inMemory += chunk.length;
          return;
        }
        if (!disk) {
          disk = await store.create();
          for (const c of chunks) await disk.write(c);
          inMemory -= chunks.reduce((n, c) => n + c.length, 0);
          chunks = [];
        }
        await disk.write(chunk);
      },
      end: async () => (disk ? disk.end() : size),
      abort: async () => {
        await disk?.abort();
      },
      memory: () => (disk ? undefined : Buffer.concat(chunks)),
    };
  };
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const bodyEnd = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const parts: SpooledPart[] = [];
  let writer: PartWriter | null = null;
  let contentType: string | undefined;
  type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'done';
  let state = 'preamble' as State;
  let buf: Buffer = Buffer.alloc(0);
  // `step` moves the state; read it through here so the checks below are not narrowed away.
  const now = (): State => state;
  let total = 0;

  // Consumes what `buf` allows; returns when it needs more bytes.
  const step = async (): Promise<void> => {
    for (;;) {
      if (state === 'preamble') {
        const at = buf.indexOf(delim);
        if (at < 0) {
          buf = buf.subarray(Math.max(0, buf.length - delim.length));
          return;
        }
        buf = buf.subarray(at + delim.length);
        state = 'delimiter';
      } else if (state === 'delimiter') {
        if (buf.length < 2) return;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'done';
          return;
        }
        // Transport padding up to the end of the delimiter line.
        const eol = buf.indexOf('\r\n');
        if (eol < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw new MultipartError('malformed multipart delimiter line');
          return;
        }
        buf = buf.subarray(eol);
        state = 'headers';
      } else if (state === 'headers') {
        // buf starts with the CRLF ending the delimiter line; headers (maybe none) end with an empty line.
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw new MultipartError('multipart part headers too long');
          return;
        }
        const headers = buf.subarray(2, end).toString('latin1');
        contentType = /^content-type:\s*(.+)$/im.exec(headers)?.[1]?.trim();
        buf = buf.subarray(end + 4);
        writer = newPart();
        state = 'body';
      } else if (state === 'body') {
        const at = buf.indexOf(bodyEnd);
        const w = writer as PartWriter;
        if (at < 0) {
          // Keep what could be the start of the closing delimiter.
          const keep = Math.min(buf.length, bodyEnd.length - 1);
          if (buf.length > keep) await w.write(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          return;
        }
        if (at > 0) await w.write(buf.subarray(0, at));
        const size = await w.end();
        const data = w.memory?.();
        parts.push(data ? { contentType, file: null, data, size } : { contentType, file: w.file, size });
        writer = null;
        buf = buf.subarray(at + bodyEnd.length);
        state = 'delimiter';
      } else {
        return;
      }
    }
  };

  try {
    for await (const chunk of source) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      total += b.length;
      if (total > limit) throw new MultipartError(`request body larger than ${limit} bytes`, 413);
      if (now() === 'done') continue; // epilogue
      buf = buf.length ? Buffer.concat([buf, b]) : b;
      await step();
    }
    await step();
    if (now() !== 'done') {
      throw new MultipartError(
        now() === 'preamble' ? 'multipart boundary not found' : 'truncated multipart body',
      );
    }
    return parts;
  } catch (err) {
    await (writer as PartWriter | null)?.abort();
    await Promise.all(parts.map((p) => (p.file === null ? undefined : rm(p.file, { force: true }))));
    throw err;
  }
}
