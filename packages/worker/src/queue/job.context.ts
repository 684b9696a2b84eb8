import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { BackendPool } from '../backends/backend.pool.js';
import type { StageCache } from '../stage/stage.cache.js';
import type { StorageQueue } from './storage.queue.js';

/** What every job handler gets. */
export interface JobContext {
  orm: MikroORM;
  backends: BackendPool;
  queue: StorageQueue;
  stage: StageCache;
  log: Logger;
}

export function fork(ctx: JobContext): EntityManager {
  return ctx.orm.em.fork();
}

/** Destroys `stream` when the job is aborted (graceful shutdown timed out, or the job's claim was lost). */
export function abortWith<T extends NodeJS.ReadableStream & { destroy(err?: Error): unknown }>(
  stream: T,
  signal?: AbortSignal,
): T {
  if (!signal) return stream;
  const onAbort = () => stream.destroy(new Error('job aborted'));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  stream.on('close', () => signal.removeEventListener('abort', onAbort));
  return stream;
}
