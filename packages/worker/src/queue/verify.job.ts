import { isStorageError } from '../backends/storage.error.js';
import { verifyObject } from '../backends/verify.util.js';
import { READABLE } from '../replicas/replica.util.js';
import { Replica, StoredObject } from '../replicas/storage.entity.js';
import { fork, type JobContext } from './job.context.js';

export interface VerifyResult {
  objectId: string;
  checked: string[];
  bad: Array<{ se: string; reason: string }>;
  repairQueued: boolean;
}

/**
 * Verifies every replica of an object (full: reads the bytes back; quick: trusts the SE's ADLER32). Bad or
 * missing replicas are marked and a replicate job repairs them from a good copy.
 */
export async function verifyJob(
  ctx: JobContext,
  objectId: string,
  mode: 'quick' | 'full' = 'full',
): Promise<VerifyResult> {
  const em = fork(ctx);
  const result: VerifyResult = { objectId, checked: [], bad: [], repairQueued: false };
  const obj = await em.findOne(StoredObject, objectId);
  if (!obj) return result;
  const replicas = await em.find(
    Replica,
    { object: obj, state: { $in: ['ok', 'bad'] } },
    { populate: ['se'] },
  );
  let unavailable: unknown;
  for (const r of replicas) {
    if (!READABLE.has(r.se.status)) continue;
    try {
      const v = await verifyObject(
        ctx.backends.get(r.se),
        r.path,
        { size: Number(r.size), adler32: r.adler32, sha256: r.sha256 },
        mode,
      );
      result.checked.push(r.se.name);
      if (v.ok) {
        r.state = 'ok';
        r.verifiedAt = new Date();
        r.lastError = null;
      } else {
        r.state = v.reason === 'missing' ? 'missing' : 'bad';
        r.lastError = `verify: ${v.detail}`;
        result.bad.push({ se: r.se.name, reason: v.detail });
        ctx.log.warn({ objectId, se: r.se.name, reason: v.reason }, 'replica failed verification');
      }
    } catch (e) {
      if (!isStorageError(e) || !e.retryable) throw e;
      unavailable = e;
    }
  }
  await em.flush();
  if (result.bad.length > 0) {
    await ctx.queue.send('replicate', { objectId });
    result.repairQueued = true;
  }
  // Check the unreachable SE again later (the job retries with back-off).
  if (unavailable) throw unavailable;
  return result;
}
