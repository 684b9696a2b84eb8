import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { orderByWeight } from '../replicas/placement.util.js';
import { READABLE } from '../replicas/replica.util.js';
import { Replica, StoredObject } from '../replicas/storage.entity.js';
import { StageChecksumError, type StageSource } from '../stage/stage.cache.js';
import { fork, type JobContext } from './job.context.js';

async function sources(ctx: JobContext, objectId: string) {
  const em = fork(ctx);
  const obj = await em.findOneOrFail(StoredObject, objectId, {
    failHandler: () => new Error('stage: unknown object'),
  });
  const good = (await em.find(Replica, { object: obj, state: 'ok' }, { populate: ['se'] })).filter((r) =>
    READABLE.has(r.se.status),
  );
  const ordered = orderByWeight(good.map((r) => ({ r, weight: r.se.weight }))).map((x) => x.r);
  const expected = { size: Number(obj.size), adler32: obj.adler32, sha256: obj.id };
  const list: StageSource[] = ordered.map((r) => ({
    expected,
    open: () => ctx.backends.get(r.se).get(r.path),
  }));
  if (obj.spoolPath === null && list.length === 0) throw new Error('stage: no good replica of the object');
  return { em, ordered, list };
}

/** Downloads an object into the stage cache (verified), repairing the replicas that turn out bad. */
export async function stageJob(
  ctx: JobContext,
  objectId: string,
): Promise<{ objectId: string; path: string }> {
  const { em, ordered, list } = await sources(ctx, objectId);
  let bad = false;
  const path = await ctx.stage.fetch(objectId, list, (i, err) => {
    const r = ordered[i];
    if (r && err instanceof StageChecksumError) {
      r.state = 'bad';
      r.lastError = `stage: ${err.message}`;
      bad = true;
    }
    ctx.log.warn({ objectId, se: r?.se.name, err: err.message }, 'stage source failed');
  });
  await em.flush();
  if (bad) await ctx.queue.send('replicate', { objectId });
  return { objectId, path };
}

/** A verified stream of the object for the server, through the stage cache. */
export async function openStaged(ctx: JobContext, objectId: string): Promise<Readable> {
  const { path } = await stageJob(ctx, objectId);
  return createReadStream(path, { highWaterMark: 1 << 20 });
}
