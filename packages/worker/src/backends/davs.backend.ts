import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from '../checksum/digest.stream.js';
import type { ByteSource, ObjectStat, PutOptions, PutResult, StorageBackend } from './backend.types.js';
import { loadTls, type SeCredentials } from './credentials.util.js';
import { parseMultistatus } from './multistatus.parser.js';
import { safePath } from './path.util.js';
import { classifyNetError, classifyStatus, StorageError } from './storage.error.js';

export interface DavsOptions {
  /** SE name for errors; defaults to host:port. */
  name?: string;
  /** Parallel connections kept to this SE. */
  maxSockets?: number;
  /** Idle socket timeout. */
  timeoutMs?: number;
}

const PROPFIND_BODY =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getcontentlength/><D:getlastmodified/></D:prop></D:propfind>';

/** `Digest: adler32=0af009d, md5=...` → 8 lower-case hex digits. */
function parseAdler(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header.join(',') : header;
  if (!v) return undefined;
  for (const part of v.split(',')) {
    const m = /^\s*adler32\s*=\s*([0-9a-fA-F]{1,8})\s*$/i.exec(part);
    if (m) return m[1]!.toLowerCase().padStart(8, '0');
  }
  return undefined;
}

function drain(res: IncomingMessage): void {
  res.resume();
}

/**
 * A grid SE over HTTPS/WebDAV with an X.509 client certificate, through node:https.
 * XRootD 5.5 matches header names case-sensitively, so every header is spelled exactly (Content-Length,
 * Want-Digest, Depth, Destination); no Expect (XrdHttp closes the connection on 100-continue); keep-alive
 * connections are reused because TLS setup dominates small transfers.
 */
export class DavsBackend implements StorageBackend {
  readonly name: string;
  readonly url: string;
  private readonly agent: https.Agent;
  private readonly host: string;
  private readonly port: number;
  private readonly basePath: string;
  private readonly origin: string;
  private readonly timeoutMs: number;

  constructor(url: string, creds: SeCredentials, opts: DavsOptions = {}) {
    const u = new URL(url.replace(/^davs:/, 'https:'));
    if (u.protocol !== 'https:')
      throw new Error(`davs backend needs a davs:// or https:// URL, got ${u.protocol}`);
    this.host = u.hostname;
    this.port = Number(u.port || 443);
    this.basePath = u.pathname.replace(/\/+$/, '');
    this.origin = `https://${u.host}`;
    this.url = url;
    this.name = opts.name ?? u.host;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    const tls = loadTls(creds);
    this.agent = new https.Agent({
      ...tls,
      keepAlive: true,
      maxSockets: opts.maxSockets ?? 16,
      scheduling: 'lifo',
    });
  }

  private pathOf(rel: string): string {
    const p = rel === '' ? '' : `/${rel.split('/').map(encodeURIComponent).join('/')}`;
    return `${this.basePath}${p}` || '/';
  }

  /** One request without a streamed body. Idempotent methods are retried once on a stale keep-alive socket. */
  private send(
    method: string,
    rel: string,
    headers: OutgoingHttpHeaders = {},
    body?: string,
  ): Promise<IncomingMessage> {
    const attempt = (retry: boolean): Promise<IncomingMessage> =>
      new Promise((resolve, reject) => {
        const h: OutgoingHttpHeaders = { ...headers };
        // Without a length Node would send bodiless PROPFIND/MKCOL/MOVE chunked.
        if (method !== 'GET' && method !== 'HEAD')
          h['Content-Length'] = String(body ? Buffer.byteLength(body) : 0);
        const req = https.request({
          agent: this.agent,
          host: this.host,
          port: this.port,
          servername: this.host,
          method,
          path: this.pathOf(rel),
          headers: h,
        });
        req.setTimeout(this.timeoutMs, () =>
          req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
        );
        req.on('response', resolve);
        req.on('error', (e: NodeJS.ErrnoException) => {
          if (retry && req.reusedSocket && e.code === 'ECONNRESET') resolve(attempt(false));
          else reject(classifyNetError(this.name, method, e));
        });
        req.end(body);
      });
    return attempt(method !== 'POST');
  }

  /** Error for a non-2xx answer; the SE's own explanation (first 300 bytes) goes into `detail`, not the message. */
  private async fail(op: string, res: IncomingMessage): Promise<StorageError> {
    let body = '';
    try {
      res.setEncoding('utf8');
      for await (const chunk of res) {
        if (body.length < 300) body += chunk;
      }
    } catch {
      // the explanation is optional
    }
    const err =
      classifyStatus(this.name, op, res.statusCode ?? 0) ??
      new StorageError(this.name, 'protocol', `${op}: unexpected HTTP ${res.statusCode}`, {
        status: res.statusCode,
      });
    err.detail = body.slice(0, 300).replace(/[^\x20-\x7e]/g, ' ');
    return err;
  }

  async put(source: ByteSource, path: string, size?: number, opts: PutOptions = {}): Promise<PutResult> {
    const rel = safePath(path);
    if (rel === '') throw new Error('put needs an object path');
    const digest = new DigestStream();
    const headers: OutgoingHttpHeaders = {};
    // Without a size the body goes chunked, which XrdHttp also accepts.
    if (size !== undefined) headers['Content-Length'] = String(size);
    const req = https.request({
      agent: this.agent,
      host: this.host,
      port: this.port,
      servername: this.host,
      method: 'PUT',
      path: this.pathOf(rel),
      headers,
    });
    req.setTimeout(this.timeoutMs, () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        let ok: IncomingMessage | undefined;
        let sent = false;
        // With TLS 1.3 the SE's refusal of our certificate can arrive after the body has been flushed.
        req.on('error', reject);
        req.on('response', (r) => {
          // An early refusal (403 before the body) ends the upload at once.
          if ((r.statusCode ?? 0) >= 300 || sent) resolve(r);
          else ok = r;
        });
        pipeline(source, digest, req).then(() => {
          sent = true;
          if (ok) resolve(ok);
        }, reject);
      });
    } catch (e) {
      req.destroy();
      throw classifyNetError(this.name, 'PUT', e);
    }
    if ((res.statusCode ?? 0) >= 300) {
      const err = await this.fail('PUT', res);
      req.destroy();
      throw err;
    }
    drain(res);
    const local = digest.digests();
    if (size !== undefined && local.size !== size) {
      await this.delete(rel).catch(() => undefined);
      throw new StorageError(
        this.name,
        'size-mismatch',
        `PUT ${rel}: ${local.size} bytes read, ${size} declared`,
      );
    }
    await this.verifyAfterPut(rel, local.size, local.adler32);
    if (opts.expect?.sha256 && opts.expect.sha256 !== local.sha256) {
      await this.delete(rel).catch(() => undefined);
      throw new StorageError(
        this.name,
        'checksum-mismatch',
        `PUT ${rel}: source SHA-256 differs from the expected one`,
      );
    }
    if (opts.expect?.adler32 && opts.expect.adler32 !== local.adler32) {
      await this.delete(rel).catch(() => undefined);
      throw new StorageError(
        this.name,
        'checksum-mismatch',
        `PUT ${rel}: source ADLER32 differs from the expected one`,
      );
    }
    return { ...local, path: rel, verifiedAt: new Date() };
  }

  /** Never trust the PUT status alone (XRootD 5.5 answers 200 to a PUT it stored 0 bytes of). */
  private async verifyAfterPut(rel: string, size: number, adler32: string): Promise<void> {
    const st = await this.stat(rel, { checksum: true });
    let problem: StorageError | undefined;
    if (!st)
      problem = new StorageError(this.name, 'size-mismatch', `PUT ${rel}: object missing after upload`);
    else if (st.size !== size)
      problem = new StorageError(
        this.name,
        'size-mismatch',
        `PUT ${rel}: SE holds ${st.size} bytes, ${size} were sent`,
      );
    else if (st.adler32 === undefined)
      problem = new StorageError(this.name, 'protocol', `PUT ${rel}: SE returned no ADLER32 for Want-Digest`);
    else if (st.adler32 !== adler32)
      problem = new StorageError(
        this.name,
        'checksum-mismatch',
        `PUT ${rel}: SE ADLER32 ${st.adler32}, sent ${adler32}`,
      );
    if (problem) {
      await this.delete(rel).catch(() => undefined);
      throw problem;
    }
  }

  async get(path: string): Promise<Readable> {
    const rel = safePath(path);
    const res = await this.send('GET', rel);
    if (res.statusCode !== 200) throw await this.fail('GET', res);
    return res;
  }

  async stat(path: string, opts: { checksum?: boolean } = {}): Promise<ObjectStat | null> {
    const rel = safePath(path);
    const res = await this.send('HEAD', rel, opts.checksum === false ? {} : { 'Want-Digest': 'adler32' });
    drain(res);
    if (res.statusCode === 404) return null;
    if ((res.statusCode ?? 0) >= 300) throw await this.fail('HEAD', res);
    const st: ObjectStat = { path: rel, size: Number(res.headers['content-length'] ?? 0), isDir: false };
    // Trust Digest only because we sent Want-Digest.
    const adler = opts.checksum === false ? undefined : parseAdler(res.headers.digest);
    if (adler) st.adler32 = adler;
    const lm = res.headers['last-modified'];
    if (lm) st.mtime = new Date(lm);
    return st;
  }

  async delete(path: string): Promise<boolean> {
    const rel = safePath(path);
    if (rel === '') throw new Error('refusing to delete the SE root');
    const res = await this.send('DELETE', rel);
    drain(res);
    if (res.statusCode === 404) return false;
    if ((res.statusCode ?? 0) >= 300) throw await this.fail('DELETE', res);
    return true;
  }

  async *list(prefix = ''): AsyncIterable<ObjectStat> {
    const stack = [safePath(prefix)];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const res = await this.send(
        'PROPFIND',
        dir,
        { Depth: '1', 'Content-Type': 'application/xml' },
        PROPFIND_BODY,
      );
      if (res.statusCode === 404) {
        drain(res);
        continue;
      }
      if (res.statusCode !== 207) throw await this.fail('PROPFIND', res);
      let xml = '';
      res.setEncoding('utf8');
      for await (const chunk of res) xml += chunk;
      for (const e of parseMultistatus(xml)) {
        const rel = this.relOf(e.href);
        if (rel === undefined) continue;
        if (e.isDir) {
          if (rel !== dir) stack.push(rel);
          continue;
        }
        const st: ObjectStat = { path: rel, size: e.size, isDir: false };
        if (e.mtime) st.mtime = e.mtime;
        yield st;
      }
    }
  }

  private relOf(href: string): string | undefined {
    const p = /^https?:\/\//i.test(href) ? new URL(href).pathname : href;
    const clean = p.replace(/\/+$/, '');
    if (clean !== this.basePath && !clean.startsWith(`${this.basePath}/`)) return undefined;
    return clean.slice(this.basePath.length).replace(/^\/+/, '');
  }

  async mkdirs(path: string): Promise<void> {
    const rel = safePath(path);
    if (rel === '') return;
    const segs = rel.split('/');
    for (let i = 1; i <= segs.length; i++) {
      const res = await this.send('MKCOL', segs.slice(0, i).join('/'));
      drain(res);
      // 405: already there.
      if (res.statusCode !== 201 && res.statusCode !== 405 && res.statusCode !== 200)
        throw await this.fail('MKCOL', res);
    }
  }

  async move(from: string, to: string): Promise<void> {
    const src = safePath(from);
    const dst = safePath(to);
    const parent = dst.split('/').slice(0, -1).join('/');
    if (parent) await this.mkdirs(parent);
    const res = await this.send('MOVE', src, {
      Destination: `${this.origin}${this.pathOf(dst)}`,
      Overwrite: 'T',
    });
    drain(res);
    if ((res.statusCode ?? 0) >= 300) throw await this.fail('MOVE', res);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
