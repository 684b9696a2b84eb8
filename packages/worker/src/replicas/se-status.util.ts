import type { EntityManager } from '@mikro-orm/core';
import type { StorageQueue } from '../queue/storage.queue.js';
import { Replica, type SeStatus, StorageElement } from './storage.entity.js';

export class UnknownSeError extends Error {
  constructor(readonly seName: string) {
    super(`no SE named ${seName}`);
    this.name = 'UnknownSeError';
  }
}

/**
 * Changes an SE's status; jobs read it from the database each time, so the change applies to the next job.
 * Draining or lost: a replicate job per object it holds, which copies the object elsewhere (lost: its
 * replicas are marked lost first) and, once there are enough copies, deletes the draining copy.
 * Shared by the worker and the server's admin API. Returns the replicate jobs queued.
 */
export async function changeSeStatus(
  em: EntityManager,
  queue: Pick<StorageQueue, 'send'>,
  name: string,
  status: SeStatus,
): Promise<number> {
  const se = await em.findOne(StorageElement, { name });
  if (!se) throw new UnknownSeError(name);
  se.status = status;
  const objectIds: string[] = [];
  if (status === 'lost' || status === 'draining') {
    const replicas = await em.find(Replica, { se }, { populate: ['object'] });
    for (const r of replicas) {
      if (status === 'lost') r.state = 'lost';
      objectIds.push(r.object.id);
    }
  }
  // Status first, so the replicate jobs see it.
  await em.flush();
  for (const objectId of objectIds) await queue.send('replicate', { objectId });
  return objectIds.length;
}
