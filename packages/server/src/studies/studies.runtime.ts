import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { StorageWorker } from '@medgrid/worker';
import type { MedgridConfig } from '../config/config.js';
import { BlindIndex, KeyRing, parseKey } from '../crypto/envelope.js';
import type { Logger } from '../logging/logger.js';
import { deidSecret, deploymentSecret } from '../secrets/deployment-secret.service.js';

/**
 * Where de-identified objects go after the spool: the storage worker's queue (`StorageWorker.ingest` queues a
 * `store` job for the object named by its SHA-256) and its verified stage cache for reading them back.
 */
export interface StorageSink {
  ingest(spoolPath: string): Promise<{ objectId: string }>;
  openObject(objectId: string): Promise<NodeJS.ReadableStream>;
  /** Queues a `delete` job: every replica of the object, then its record. */
  deleteObject(objectId: string): Promise<void>;
  close(): Promise<void>;
}

/** Per-process state of the studies domain: keys, blind index, de-identification secret and spool. */
export class StudiesRuntime {
  constructor(
    readonly keys: KeyRing,
    readonly blind: BlindIndex,
    readonly deidSecret: string,
    readonly spoolDir: string,
    readonly publicUrl: string,
    readonly maxUploadBytes: number,
    /** Per STOW-RS request, bytes of parts held in memory before the rest go to sealed files. */
    readonly stowMemoryBytes: number,
    /** Null: objects stay in the spool (tests, or no worker); see MEDGRID_STORE_JOBS. */
    public storage: StorageSink | null = null,
  ) {
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  }

  static open(config: MedgridConfig, env: Record<string, string | undefined> = process.env): StudiesRuntime {
    const kek = parseKey(config.studies.kek ?? deploymentSecret(config.dataDir, 'kek'), 'MEDGRID_KEK');
    const previous = config.studies.kekPrevious.map((k) => parseKey(k, 'MEDGRID_KEK_PREVIOUS'));
    const secret = deidSecret(config.dataDir, env);
    return new StudiesRuntime(
      new KeyRing(kek, previous),
      new BlindIndex(secret),
      secret,
      path.join(config.dataDir, 'spool'),
      config.identity.publicUrl,
      config.studies.maxUploadBytes,
      config.studies.stowMemoryBytes,
    );
  }

  /**
   * Connects the storage worker's queue and stage cache (opened on first use, so the server starts before the
   * worker has created its tables). Only when MEDGRID_STORE_JOBS is on and DATABASE_URL is known.
   */
  connectStorage(
    config: MedgridConfig,
    logger?: Logger,
    databaseUrl: string | undefined = config.databaseUrl ?? process.env.DATABASE_URL,
  ): void {
    if (!config.studies.storeJobs || !databaseUrl || this.storage) return;
    let worker: Promise<StorageWorker> | null = null;
    const get = () => {
      worker ??= StorageWorker.create({
        databaseUrl,
        stageDir: path.join(config.dataDir, 'stage-server'),
        stageMaxBytes: 2 * 2 ** 30,
        ...(logger ? { logger: logger.child({ component: 'storage' }) } : {}),
      }).catch((err: Error) => {
        worker = null;
        throw err;
      });
      return worker;
    };
    this.storage = {
      ingest: async (spoolPath) => (await get()).ingest(spoolPath, { copies: config.studies.copies }),
      openObject: async (id) => (await get()).openObject(id),
      deleteObject: async (id) => {
        await (await get()).queue.send('delete', { objectId: id });
      },
      close: async () => {
        if (worker) await (await worker.catch(() => null))?.stop(5000);
      },
    };
  }

  /** Spool file of a de-identified object: named by the SHA-256 of its bytes only. */
  spoolPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('bad object name');
    return path.join(this.spoolDir, sha256.slice(0, 2), `${sha256}.dcm`);
  }
}
