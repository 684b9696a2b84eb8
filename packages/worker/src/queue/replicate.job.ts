import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { PutResult } from '../backends/backend.types.js';
import { contentPath } from '../backends/path.util.js';
import { putWithRetry } from '../backends/put-retry.util.js';
import { isStorageError, StorageError } from '../backends/storage.error.js';
import { bytesStored } from '../metrics/storage.metrics.js';
import { orderByWeight } from '../replicas/placement.util.js';
import { counts, hasRoom, READABLE, recordReplica, WRITABLE } from '../replicas/replica.util.js';
import {
  type IReplica,
  type IStorageElement,
  type IStoredObject,
  Replica,
  StorageElement,
  StoredObject,
} from '../replicas/storage.entity.js';
import { fork, type JobContext } from './job.context.js';

export interface CopiesResult {
  objectId: string;
  stored: string[];
  failed: string[];
  drained: string[];
  underReplicated: boolean;
  /** The spool file was removed: every copy the policy asks for is verified on an SE. */
  spoolReleased?: boolean;
  skipped?: string;
}

interface Source {
  label: string;
  replica?: IReplica;
  open: () => Promise<Readable>;
}

/** Errors that say the target SE is the problem, so trying another source will not help. */
function targetProblem(e: unknown, target: string): boolean {
  return (
    isStorageError(e) &&
    e.se === target &&
    ['unavailable', 'credentials-refused', 'se-untrusted', 'protocol', 'bad-path'].includes(e.code)
  );
}

async function copyTo(
  ctx: JobContext,
  obj: IStoredObject,
  se: IStorageElement,
  sources: Source[],
  signal?: AbortSignal,
): Promise<PutResult> {
  const target = ctx.backends.get(se);
  let last: unknown = new StorageError(
    se.name,
    'protocol',
    'no source to copy from (no spool file and no good replica)',
  );
  for (const src of sources) {
    let sourceFailed = false;
    try {
      return await putWithRetry(
        target,
        async () => {
          const stream = await src.open();
          stream.once('error', () => {
            sourceFailed = true;
          });
          return stream;
        },
        contentPath(obj.id),
        Number(obj.size),
        { expect: { sha256: obj.id, adler32: obj.adler32 }, ...(signal ? { signal } : {}) },
      );
    } catch (e) {
      last = e;
      if (signal?.aborted) throw e;
      if (!sourceFailed && targetProblem(e, se.name)) throw e;
      // The source was bad (corrupt spool, unreadable or corrupt replica): mark it and try the next one.
      ctx.log.warn(
        { objectId: obj.id, source: src.label, target: se.name, err: (e as Error).message },
        'copy source failed',
      );
      if (src.replica && isStorageError(e, 'checksum-mismatch')) {
        src.replica.state = 'bad';
        src.replica.lastError = 'source bytes did not match the recorded checksums during a copy';
      }
    }
  }
  throw last;
}

function sourcesFor(ctx: JobContext, obj: IStoredObject, good: IReplica[]): Source[] {
  const out: Source[] = [];
  if (obj.spoolPath) {
    const spool = obj.spoolPath;
    out.push({ label: 'spool', open: async () => createReadStream(spool, { highWaterMark: 1 << 20 }) });
  }
  for (const r of orderByWeight(good.map((g) => ({ r: g, weight: g.se.weight })))) {
    out.push({ label: r.r.se.name, replica: r.r, open: () => ctx.backends.get(r.r.se).get(r.r.path) });
  }
  return out;
}

/**
 * Brings an object to its policy's number of verified copies: from the spool while it exists, otherwise from
 * a good replica. SEs holding a bad or missing copy are repaired first, then new SEs are chosen by weight.
 * Used by both store and replicate jobs; safe to run again at any point (content-addressed paths, one replica
 * row per object and SE).
 */
export async function ensureCopies(
  ctx: JobContext,
  objectId: string,
  signal?: AbortSignal,
): Promise<CopiesResult> {
  const em = fork(ctx);
  const result: CopiesResult = { objectId, stored: [], failed: [], drained: [], underReplicated: false };
  const obj = await em.findOne(StoredObject, objectId);
  if (!obj || obj.deleteRequested) return { ...result, skipped: 'object unknown or being deleted' };
  const replicas = await em.find(Replica, { object: obj }, { populate: ['se'] });
  const have = replicas.filter(counts);
  let need = obj.copies - have.length;
  if (need > 0) {
    const holding = new Set(have.map((r) => r.se.id));
    const existing = new Map(replicas.map((r) => [r.se.id, r]));
    const writable = (await em.find(StorageElement, {})).filter(
      (s) => WRITABLE.has(s.status) && !holding.has(s.id) && hasRoom(s, Number(obj.size)),
    );
    const targets = [
      ...writable.filter((s) => existing.has(s.id)),
      ...orderByWeight(writable.filter((s) => !existing.has(s.id))),
    ];
    const sources = sourcesFor(
      ctx,
      obj,
      have.filter((r) => READABLE.has(r.se.status)),
    );
    const errors: unknown[] = [];
    for (const se of targets) {
      if (need <= 0) break;
      try {
        const put = await copyTo(ctx, obj, se, sources, signal);
        recordReplica(em, obj, se, existing.get(se.id), put);
        await em.flush();
        need--;
        result.stored.push(se.name);
        bytesStored.inc({ se: se.name }, put.size);
        ctx.log.info({ objectId, se: se.name, size: put.size }, 'replica stored and verified');
      } catch (e) {
        errors.push(e);
        result.failed.push(se.name);
        const r = existing.get(se.id);
        if (r) r.lastError = (e as Error).message;
        ctx.log.warn({ objectId, se: se.name, err: (e as Error).message }, 'replica copy failed');
        if (signal?.aborted) break;
      }
    }
    await em.flush();
    if (need > 0) {
      if (errors.length > 0) {
        const first = errors[0] as Error;
        const detail = isStorageError(first) ? first.message.slice(`SE ${first.se}: `.length) : first.message;
        const msg = `${obj.copies - need} of ${obj.copies} copies stored; ${detail}`;
        throw isStorageError(first)
          ? new StorageError(first.se, first.code, msg, { cause: first })
          : new Error(msg, { cause: first });
      }
      result.underReplicated = true;
      ctx.log.warn(
        { objectId, copies: obj.copies, have: obj.copies - need },
        'not enough writable SEs for the policy',
      );
    }
  }
  if (need <= 0) {
    // Enough copies elsewhere: copies on draining SEs can go.
    for (const r of replicas.filter((x) => x.se.status === 'draining')) {
      await ctx.backends.get(r.se).delete(r.path);
      r.se.usedBytes = Math.max(0, Number(r.se.usedBytes) - Number(r.size));
      em.remove(r);
      result.drained.push(r.se.name);
    }
    await em.flush();
    if (obj.spoolPath) {
      // The policy's copies are verified on SEs: the spool file is no longer needed (reads go through the
      // stage cache). Forget it first, so a crash in between leaves an orphan file, never a dangling path.
      const spool = obj.spoolPath;
      obj.spoolPath = null;
      await em.flush();
      await rm(spool, { force: true });
      result.spoolReleased = true;
    }
  }
  return result;
}
