import { StorageQueue } from '@medgrid/worker';

/**
 * The server's handle on the storage worker's pg-boss queue, for the admin API: a client that sends, lists
 * and retries jobs (no maintenance, never changes the worker's retry settings). Opened on first use, so the
 * server starts whether or not the worker has run yet.
 */
export class StorageAdminRuntime {
  private queue: Promise<StorageQueue> | null = null;

  constructor(private readonly databaseUrl: string | undefined) {}

  jobQueue(): Promise<StorageQueue> {
    const url = this.databaseUrl;
    if (!url) return Promise.reject(new Error('the storage queue needs DATABASE_URL'));
    this.queue ??= (async () => {
      const q = new StorageQueue({ connectionString: url, client: true });
      await q.start();
      return q;
    })().catch((err: Error) => {
      this.queue = null;
      throw err;
    });
    return this.queue;
  }

  async close(): Promise<void> {
    const q = this.queue;
    this.queue = null;
    if (q) await (await q.catch(() => null))?.stop(5000);
  }
}
