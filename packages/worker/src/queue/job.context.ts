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
