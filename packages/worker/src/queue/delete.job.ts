import { Replica, StoredObject } from '../replicas/storage.entity.js';
import { fork, type JobContext } from './job.context.js';

/** Deletes every replica, then the object record. Re-runnable: a copy already gone counts as deleted. */
export async function deleteJob(
  ctx: JobContext,
  objectId: string,
): Promise<{ objectId: string; deleted: string[] }> {
  const em = fork(ctx);
  const deleted: string[] = [];
  const obj = await em.findOne(StoredObject, objectId);
  if (!obj) return { objectId, deleted };
  obj.deleteRequested = true;
  await em.flush();
  const replicas = await em.find(Replica, { object: obj }, { populate: ['se'] });
  for (const r of replicas) {
    // A lost SE has nothing left to delete.
    if (r.se.status !== 'lost') await ctx.backends.get(r.se).delete(r.path);
    r.se.usedBytes = Math.max(0, Number(r.se.usedBytes) - Number(r.size));
    em.remove(r);
    await em.flush();
    deleted.push(r.se.name);
  }
  em.remove(obj);
  await em.flush();
  return { objectId, deleted };
}
