import { MikroORM } from '@mikro-orm/postgresql';
import { type Logger, pino } from 'pino';
import { BackendPool } from '../backends/backend.pool.js';
import type { SeCredentials } from '../backends/credentials.util.js';
import { digestFile } from '../checksum/digest.stream.js';
import { changeSeStatus } from '../replicas/se-status.util.js';
import { type SeStatus, StorageElement, StoredObject, storageEntities } from '../replicas/storage.entity.js';
import { scanJob } from '../scan/scan.job.js';
import { StageCache } from '../stage/stage.cache.js';
import { deleteJob } from './delete.job.js';
import type { JobContext } from './job.context.js';
import { ensureCopies } from './replicate.job.js';
import { openStaged, stageJob } from './stage.job.js';
import {
  JOB_KINDS,
  type JobHandlers,
  type JobKind,
  type QueueOptions,
  StorageQueue,
} from './storage.queue.js';
import { verifyJob } from './verify.job.js';

export interface StorageWorkerConfig {
  databaseUrl: string;
  /** Local stage cache directory and its cap in bytes. */
  stageDir: string;
  stageMaxBytes?: number;
  /** Jobs handled at once, per kind. */
  concurrency?: number;
  /** Default SE credentials (the VO robot); an SE's own credentials override them. */
  credentials?: SeCredentials;
  queue?: Partial<Omit<QueueOptions, 'connectionString'>>;
  logger?: Logger;
  /** Use an existing ORM (e.g. the server's, with storageEntities in its config) instead of opening one. */
  orm?: MikroORM;
}

export interface SeInput {
  name: string;
  url: string;
  weight?: number;
  status?: SeStatus;
  quotaBytes?: number | null;
  credentials?: SeCredentials | null;
}

/** Creates the storage tables if missing (development and tests; production uses the server's migrations). */
export async function ensureStorageSchema(orm: MikroORM): Promise<void> {
  await orm.schema.update({ safe: true, dropTables: false });
}

/** The storage worker: SE registry, queue, job handlers and stage cache over one PostgreSQL database. */
export class StorageWorker implements JobContext {
  private working = false;
  private ownsOrm: boolean;

  private constructor(
    readonly orm: MikroORM,
    readonly queue: StorageQueue,
    readonly backends: BackendPool,
    readonly stage: StageCache,
    readonly log: Logger,
    private readonly concurrency: number,
    ownsOrm: boolean,
  ) {
    this.ownsOrm = ownsOrm;
  }

  static async create(cfg: StorageWorkerConfig): Promise<StorageWorker> {
    const log =
      cfg.logger ?? pino({ name: 'medgrid-worker', level: process.env.MEDGRID_LOG_LEVEL || 'info' });
    const orm =
      cfg.orm ??
      (await MikroORM.init({
        clientUrl: cfg.databaseUrl,
        entities: storageEntities,
        pool: { min: 0, max: 4 },
      }));
    const queue = new StorageQueue({ connectionString: cfg.databaseUrl, ...cfg.queue });
    await queue.start();
    const stage = new StageCache(cfg.stageDir, cfg.stageMaxBytes ?? 10 * 2 ** 30);
    await stage.init();
    return new StorageWorker(
      orm,
      queue,
      new BackendPool(cfg.credentials ?? {}),
      stage,
      log,
      cfg.concurrency ?? 2,
      !cfg.orm,
    );
  }

  /** Adds or updates an SE in the registry. */
  async upsertSe(input: SeInput): Promise<void> {
    const em = this.orm.em.fork();
    const se =
      (await em.findOne(StorageElement, { name: input.name })) ??
      em.create(StorageElement, { name: input.name, url: input.url });
    se.url = input.url;
    if (input.weight !== undefined) se.weight = input.weight;
    if (input.status !== undefined) se.status = input.status;
    if (input.quotaBytes !== undefined) se.quotaBytes = input.quotaBytes;
    if (input.credentials !== undefined) se.credentials = input.credentials;
    await em.flush();
  }

  /**
   * Changes an SE's status. Marking it lost marks its replicas lost and queues a replicate job for each
   * object, so their copies are made again from good replicas elsewhere.
   */
  async setSeStatus(name: string, status: SeStatus): Promise<number> {
    return changeSeStatus(this.orm.em.fork(), this.queue, name, status);
  }

  /**
   * Registers a de-identified object sitting in the spool and queues its upload. The object's id is its
   * SHA-256, computed here while streaming the file; ADLER32 comes in the same pass.
   */
  async ingest(
    spoolPath: string,
    opts: { copies?: number } = {},
  ): Promise<{ objectId: string; jobId: string | null }> {
    const d = await digestFile(spoolPath);
    const em = this.orm.em.fork();
    let obj = await em.findOne(StoredObject, d.sha256);
    if (!obj)
      obj = em.create(StoredObject, {
        id: d.sha256,
        size: d.size,
        adler32: d.adler32,
        copies: opts.copies ?? 2,
        spoolPath,
      });
    else {
      obj.spoolPath = spoolPath;
      obj.deleteRequested = false;
      if (opts.copies !== undefined) obj.copies = opts.copies;
    }
    await em.flush();
    const jobId = await this.queue.send('store', { objectId: d.sha256 });
    return { objectId: d.sha256, jobId };
  }

  /** A verified stream of a stored object, through the stage cache. */
  openObject(objectId: string) {
    return openStaged(this, objectId);
  }

  handlers(): JobHandlers {
    return {
      store: (d, j) => ensureCopies(this, d.objectId, j.signal),
      replicate: (d, j) => ensureCopies(this, d.objectId, j.signal),
      verify: (d) => verifyJob(this, d.objectId, d.mode ?? 'full'),
      stage: (d) => stageJob(this, d.objectId),
      delete: (d) => deleteJob(this, d.objectId),
      scan: (d) => scanJob(this, d.se, { repair: d.repair ?? true, graceSeconds: d.graceSeconds ?? 3600 }),
    };
  }

  /** Starts taking jobs of the given kinds (all by default). */
  async run(kinds: readonly JobKind[] = JOB_KINDS): Promise<void> {
    if (this.working) return;
    this.working = true;
    const all = this.handlers();
    const chosen: JobHandlers = {};
    for (const k of kinds) (chosen as Record<string, unknown>)[k] = all[k];
    await this.queue.work(chosen, this.concurrency);
  }

  /** Graceful shutdown: finishes jobs in flight for up to timeoutMs, releases the rest for retry. */
  async stop(timeoutMs = 30_000): Promise<void> {
    await this.queue.stop(timeoutMs);
    await this.backends.close();
    if (this.ownsOrm) await this.orm.close();
  }
}
