import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type DeidProfile,
  deidentify,
  extractQueryAttributes,
  isDicomError,
  type QueryAttributes,
} from '@medgrid/dicom';
import type { Logger } from 'pino';
import type { ErrorLog, GatewayMetrics } from '../ops/metrics.js';
import { type Spool, syncDir } from '../spool/spool.js';
import type { Vault, VaultRow } from '../vault/vault.service.js';
import { type DeidOutput, DeidWorker, deidOutputOf } from './deid.pool.js';

export interface Prepared {
  deid: DeidOutput;
  attrs: QueryAttributes;
}

interface Job {
  spoolId: string;
  callingAe: string | null;
  /** The spooled bytes and their query attributes, when the job comes straight from C-STORE. */
  file?: Buffer;
  attrs?: QueryAttributes;
}

/** Why an instance cannot be ingested, without any value from the dataset. */
export function describeFailure(err: unknown): string {
  if (isDicomError(err)) return `DICOM ${err.code}`;
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}` : 'internal error';
}

/**
 * The de-identified object cache. Each ingest batch is written as one pack file (`packs/<random>.pack`: the
 * objects back to back, fsynced once, renamed, directory fsynced), so a batch costs one flush instead of one per
 * object. The vault row keeps the object's reference `<pack>:<offset>:<length>`.
 */
export class DeidCache {
  constructor(readonly dir: string) {
    mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    mkdirSync(path.join(dir, 'packs'), { recursive: true });
  }

  /** Reads one object by its reference; undefined when the reference or the pack is gone. */
  async get(ref: string | null | undefined): Promise<Buffer | undefined> {
    const m = ref ? /^([0-9a-f-]{36}\.pack):(\d+):(\d+)$/.exec(ref) : null;
    if (!m) return undefined;
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(path.join(this.dir, 'packs', m[1]!), 'r');
      const len = Number(m[3]);
      const buf = Buffer.allocUnsafe(len);
      const r = await fh.read(buf, 0, len, Number(m[2]));
      return r.bytesRead === len ? buf : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    } finally {
      await fh?.close();
    }
  }

  /** Writes several objects durably as one pack; returns each object's reference. */
  async putMany(items: { deidSopUid: string; bytes: Buffer }[]): Promise<Map<string, string>> {
    const refs = new Map<string, string>();
    if (!items.length) return refs;
    const name = `${randomUUID()}.pack`;
    const tmp = path.join(this.dir, 'tmp', `${name}.part`);
    let offset = 0;
    for (const it of items) {
      refs.set(it.deidSopUid, `${name}:${offset}:${it.bytes.length}`);
      offset += it.bytes.length;
    }
    const fh = await fs.open(tmp, 'w');
    try {
      // Flushed in steps of about PACK_FLUSH_BYTES: one big flush would hold up the spool's per-instance
      // fdatasync (C-STORE latency) behind it on the same device.
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      for (let i = 0; i < items.length; i++) {
        chunk.push(items[i]!.bytes);
        chunkBytes += items[i]!.bytes.length;
        if (chunkBytes < PACK_FLUSH_BYTES && i < items.length - 1) continue;
        await writeAll(fh, chunk, chunkBytes);
        if (i < items.length - 1) await fh.datasync();
        chunk = [];
        chunkBytes = 0;
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    await fs.rename(tmp, path.join(this.dir, 'packs', name));
    await syncDir(path.join(this.dir, 'packs'));
    return refs;
  }
}

/** How much of a pack is written between two flushes. */
const PACK_FLUSH_BYTES = 1024 * 1024;

async function writeAll(fh: fs.FileHandle, parts: Buffer[], total: number): Promise<void> {
  let pending = parts;
  let written = 0;
  // writev may write less than asked (for example when the disk fills up): loop or fail.
  while (written < total) {
    const r = await fh.writev(pending);
    if (r.bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
    written += r.bytesWritten;
    pending = skipBytes(pending, r.bytesWritten);
  }
}

function skipBytes(parts: Buffer[], n: number): Buffer[] {
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

/**
 * Ingest pipeline after the spool: de-identify, cache the de-identified object, record identity and
 * query attributes in the vault, then drop the spool file. Each step is idempotent, so a crash at any
 * point is repaired by re-processing what is left in the spool.
 */
export class IngestPipeline {
  private queue: Job[] = [];
  private running = false;
  private idle: (() => void)[] = [];
  private room: (() => void)[] = [];
  readonly maxQueued = 128;
  private readonly worker: DeidWorker | undefined;

  constructor(
    private readonly opts: {
      spool: Spool;
      cache: DeidCache;
      vault: Vault;
      profile: DeidProfile;
      secret: Buffer;
      log: Logger;
      metrics: GatewayMetrics;
      errors: ErrorLog;
      batchSize?: number;
      /** De-identify in a worker thread, or (default) on the event loop between network events. */
      deidThread?: boolean;
      /** Called after a batch is in the vault (wakes the uploader). */
      onIngested?: () => void;
    },
  ) {
    if (opts.deidThread) this.worker = new DeidWorker(opts.profile.name, opts.secret);
  }

  /**
   * Parses one instance and reads its query attributes (throws if it cannot be parsed or lacks its UIDs).
   * This is what C-STORE checks before answering; de-identification follows off the response path.
   */
  validate(file: Buffer): QueryAttributes {
    const attrs = extractQueryAttributes(file);
    if (!attrs.sopInstanceUid || !attrs.studyInstanceUid || !attrs.seriesInstanceUid) {
      throw Object.assign(new Error('instance lacks its UIDs'), { code: 'MISSING_UIDS' });
    }
    return attrs;
  }

  /** De-identifies (in the worker thread) and indexes one instance in memory. */
  async prepare(file: Buffer, attrs?: QueryAttributes): Promise<Prepared> {
    const a = attrs ?? this.validate(file);
    if (this.worker) return { deid: await this.worker.run(file), attrs: a };
    const d = deidentify(file, { profile: this.opts.profile, secret: this.opts.secret });
    // Let the network (and C-STORE responses) in between instances.
    await new Promise((r) => setImmediate(r));
    return { deid: deidOutputOf(d), attrs: a };
  }

  /** Stops the de-identification worker (after `drained`). */
  close(): Promise<void> {
    return this.worker?.close() ?? Promise.resolve();
  }

  get backlog(): number {
    return this.queue.length;
  }

  /** Resolves when there is room in the in-memory queue (back-pressure for C-STORE). */
  async waitForRoom(): Promise<void> {
    while (this.queue.length >= this.maxQueued) await new Promise<void>((r) => this.room.push(r));
  }

  enqueue(job: Job): void {
    this.queue.push(job);
    this.opts.metrics.spoolBacklog.set(this.queue.length);
    if (!this.running) void this.pump();
  }

  /** Re-queues everything a previous run left in the spool (after a crash or kill). */
  async recover(): Promise<number> {
    await this.opts.spool.cleanTemp();
    await this.opts.spool.openSlots();
    const ids = await this.opts.spool.list();
    for (const spoolId of ids) this.enqueue({ spoolId, callingAe: null });
    return ids.length;
  }

  /** Resolves once everything queued so far is processed. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private async pump(): Promise<void> {
    this.running = true;
    const max = this.opts.batchSize ?? 32;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, max);
        for (const r of this.room.splice(0)) r();
        await this.processBatch(batch);
        this.opts.metrics.spoolBacklog.set(this.queue.length);
      }
    } finally {
      this.running = false;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private async processBatch(batch: Job[]): Promise<void> {
    const { spool, cache, vault, log, metrics, errors } = this.opts;
    const rows: VaultRow[] = [];
    const cached: { deidSopUid: string; bytes: Buffer }[] = [];
    const done: string[] = [];
    for (const job of batch) {
      try {
        const file = job.file ?? (await spool.read(job.spoolId));
        // A worker that died (EWORKER) is restarted by the next call; only a failure of the instance quarantines it.
        let p: Prepared | undefined;
        for (let attempt = 0; !p; attempt++) {
          try {
            p = await this.prepare(file, job.attrs);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EWORKER' || attempt >= 2) throw err;
          }
        }
        job.file = undefined;
        rows.push(toRow(p, job.callingAe));
        cached.push({ deidSopUid: p.deid.newSopInstanceUid, bytes: p.deid.deidentified });
        done.push(job.spoolId);
      } catch (err) {
        // Only files that passed prepare() got Success, so this is rare (e.g. a changed profile): keep the file.
        metrics.ingestFailures.inc();
        errors.push('ingest', `cannot process a spooled instance: ${describeFailure(err)}`);
        log.error({ spoolId: job.spoolId, reason: describeFailure(err) }, 'spooled instance quarantined');
        await spool.quarantine(job.spoolId).catch(() => undefined);
      }
    }
    // Retry the durable steps until they work: the instances already got Success.
    for (let attempt = 0; ; attempt++) {
      try {
        // A batch may hold the same instance twice (re-sent): keep the last.
        const unique = [...new Map(rows.map((r) => [r.sop_instance_uid, r])).values()];
        const uniqueCache = [...new Map(cached.map((c) => [c.deidSopUid, c])).values()];
        const refs = await cache.putMany(uniqueCache);
        for (const r of unique) r.cache_ref = refs.get(r.deid_sop_instance_uid) ?? null;
        await vault.upsert(unique);
        break;
      } catch (err) {
        errors.push('vault', `cannot record a batch: ${describeFailure(err)}`);
        log.error({ attempt, reason: describeFailure(err) }, 'vault write failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      }
    }
    await Promise.all(done.map((id) => spool.remove(id)));
    metrics.ingested.inc(rows.length);
    if (rows.length) this.opts.onIngested?.();
  }
}

function toRow(p: Prepared, callingAe: string | null): VaultRow {
  const a = p.attrs;
  const s = p.deid;
  const n = (v: string | undefined) => (v === undefined || v === '' ? null : v);
  return {
    sop_instance_uid: a.sopInstanceUid!,
    sop_class_uid: a.sopClassUid ?? s.sopClassUid ?? '',
    study_instance_uid: a.studyInstanceUid!,
    series_instance_uid: a.seriesInstanceUid!,
    patient_id: n(a.patientId),
    patient_name: n(a.patientName),
    patient_birth_date: n(a.patientBirthDate),
    patient_sex: n(a.patientSex),
    study_date: n(a.studyDate),
    study_time: n(a.studyTime),
    study_description: n(a.studyDescription),
    accession_number: n(a.accessionNumber),
    study_id: n(a.studyId),
    referring_physician_name: n(a.referringPhysicianName),
    modality: n(a.modality),
    series_number: n(a.seriesNumber),
    series_description: n(a.seriesDescription),
    instance_number: n(a.instanceNumber),
    transfer_syntax_uid: a.transferSyntaxUid,
    deid_sop_instance_uid: p.deid.newSopInstanceUid,
    deid_study_instance_uid: s.newStudyUid ?? null,
    deid_series_instance_uid: s.newSeriesUid ?? null,
    sha256: p.deid.sha256,
    size: p.deid.originalLength,
    identity: p.deid.identity,
    calling_ae: callingAe,
    cache_ref: null,
  };
}
