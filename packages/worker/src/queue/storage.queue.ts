import { type Job, type JobWithMetadata, PgBoss } from 'pg-boss';
import { jobSeconds, jobsTotal } from '../metrics/storage.metrics.js';

export const JOB_KINDS = ['store', 'verify', 'stage', 'replicate', 'delete', 'scan'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Job payloads: ids only (content hashes, SE names), never patient data. */
export interface JobData {
  store: { objectId: string };
  verify: { objectId: string; mode?: 'quick' | 'full' };
  stage: { objectId: string };
  replicate: { objectId: string };
  delete: { objectId: string };
  scan: { se: string; repair?: boolean; graceSeconds?: number };
}

export type JobHandler<K extends JobKind> = (
  data: JobData[K],
  job: { id: string; signal: AbortSignal; retryCount: number },
) => Promise<object | undefined>;
export type JobHandlers = { [K in JobKind]?: JobHandler<K> };

export interface QueueOptions {
  connectionString: string;
  /** PostgreSQL schema for pg-boss's tables. */
  schema?: string;
  /** Retries after the first attempt. */
  retryLimit?: number;
  /** First back-off in seconds; doubles each retry, with jitter (pg-boss retryBackoff). */
  retryDelay?: number;
  retryDelayMax?: number;
  /** A worker that stops heartbeating (killed) loses its job to another after this many seconds. */
  heartbeatSeconds?: number;
  expireInSeconds?: number;
  /** How often pg-boss looks for expired/abandoned jobs. */
  monitorIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
}

export interface FailedJob {
  id: string;
  kind: JobKind;
  data: unknown;
  retryCount: number;
  reason: string;
  completedOn: Date | null;
}

const queueName = (kind: JobKind) => `medgrid-storage-${kind}`;

/**
 * The storage job queue, on pg-boss (PostgreSQL). Idempotency: each job is keyed (kind + object id) so a
 * second send while one is queued is dropped, and every handler checks the database before acting.
 */
export class StorageQueue {
  readonly boss: PgBoss;
  private readonly opts: Required<Omit<QueueOptions, 'connectionString' | 'schema'>>;
  private started = false;

  constructor(opts: QueueOptions) {
    this.opts = {
      retryLimit: opts.retryLimit ?? 8,
      retryDelay: opts.retryDelay ?? 5,
      retryDelayMax: opts.retryDelayMax ?? 600,
      heartbeatSeconds: opts.heartbeatSeconds ?? 30,
      expireInSeconds: opts.expireInSeconds ?? 6 * 3600,
      monitorIntervalSeconds: opts.monitorIntervalSeconds ?? 30,
      pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2,
    };
    this.boss = new PgBoss({
      connectionString: opts.connectionString,
      schema: opts.schema ?? 'pgboss',
      max: 4,
      monitorIntervalSeconds: this.opts.monitorIntervalSeconds,
      superviseIntervalSeconds: this.opts.monitorIntervalSeconds,
      application_name: 'medgrid-worker',
    });
    // pg-boss emits errors (lost connections and the like); without a listener they would crash the process.
    this.boss.on('error', () => undefined);
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.boss.start();
    for (const kind of JOB_KINDS) {
      const q = {
        retryLimit: this.opts.retryLimit,
        retryDelay: this.opts.retryDelay,
        retryBackoff: true,
        retryDelayMax: this.opts.retryDelayMax,
        expireInSeconds: this.opts.expireInSeconds,
        heartbeatSeconds: this.opts.heartbeatSeconds,
        // Failed jobs stay for 30 days so an operator can read the reason and retry.
        deleteAfterSeconds: 30 * 24 * 3600,
      };
      const existing = await this.boss.getQueue(queueName(kind));
      if (existing) await this.boss.updateQueue(queueName(kind), q);
      else await this.boss.createQueue(queueName(kind), q);
    }
    this.started = true;
  }

  /** Queues a job; returns its id, or null when an identical job is already waiting. */
  async send<K extends JobKind>(
    kind: K,
    data: JobData[K],
    opts: { key?: string; startAfterSeconds?: number } = {},
  ): Promise<string | null> {
    const key =
      opts.key ??
      ('objectId' in data ? `${kind}:${data.objectId}` : `${kind}:${(data as { se: string }).se}`);
    const o: { singletonKey: string; startAfter?: number } = { singletonKey: key };
    if (opts.startAfterSeconds) o.startAfter = opts.startAfterSeconds;
    return this.boss.send(queueName(kind), data, o);
  }

  /** Starts handling jobs of the given kinds, `concurrency` at a time per kind. */
  async work(handlers: JobHandlers, concurrency = 2): Promise<void> {
    for (const kind of JOB_KINDS) {
      const h = handlers[kind] as JobHandler<JobKind> | undefined;
      if (!h) continue;
      await this.boss.work(
        queueName(kind),
        {
          localConcurrency: concurrency,
          batchSize: 1,
          pollingIntervalSeconds: this.opts.pollingIntervalSeconds,
        },
        async (jobs: Job<JobData[JobKind]>[]) => {
          const job = jobs[0]!;
          const end = jobSeconds.startTimer({ kind });
          try {
            const out = await h(job.data, { id: job.id, signal: job.signal, retryCount: job.retryCount });
            jobsTotal.inc({ kind, outcome: 'completed' });
            return out;
          } catch (e) {
            jobsTotal.inc({ kind, outcome: 'failed' });
            throw e;
          } finally {
            end();
          }
        },
      );
    }
  }

  async job(kind: JobKind, id: string): Promise<JobWithMetadata<unknown> | null> {
    const [j] = await this.boss.findJobs<unknown>(queueName(kind), { id });
    return j ?? null;
  }

  /** Waits until a job is completed or failed for good; returns its final state. */
  async waitFor(kind: JobKind, id: string, timeoutMs = 60_000): Promise<JobWithMetadata<unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const j = await this.job(kind, id);
      if (j && (j.state === 'completed' || j.state === 'failed' || j.state === 'cancelled')) return j;
      if (Date.now() > until)
        throw new Error(`job ${kind} ${id} still ${j?.state ?? 'missing'} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Failed jobs of one kind, with the error that failed them. */
  async failed(kind: JobKind): Promise<FailedJob[]> {
    const jobs = await this.boss.findJobs<unknown>(queueName(kind));
    return jobs
      .filter((j) => j.state === 'failed')
      .map((j) => ({
        id: j.id,
        kind,
        data: j.data,
        retryCount: j.retryCount,
        reason: reasonOf(j.output),
        completedOn: j.completedOn,
      }));
  }

  async retry(kind: JobKind, id: string): Promise<void> {
    await this.boss.retry(queueName(kind), id);
  }

  /** Graceful: waits up to timeoutMs for jobs in flight; those still running are failed back for retry. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: timeoutMs });
  }
}

export function reasonOf(output: unknown): string {
  if (output && typeof output === 'object') {
    const o = output as { message?: unknown; value?: unknown };
    if (typeof o.message === 'string') return o.message;
    if (typeof o.value === 'string') return o.value;
  }
  return output === undefined || output === null ? '' : JSON.stringify(output);
}
