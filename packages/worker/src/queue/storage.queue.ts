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
  /**
   * A client (the server's admin API) only sends, lists and retries: no maintenance and no cron, and it never
   * changes the queues' retry settings (the worker process owns them).
   */
  client?: boolean;
}

/** A job as the admin pages show it: ids and the error, never patient data (payloads carry hashes only). */
export interface JobInfo {
  id: string;
  kind: JobKind;
  state: JobState;
  data: unknown;
  retryCount: number;
  retryLimit: number;
  reason: string;
  output: unknown;
  createdOn: Date;
  startedOn: Date | null;
  completedOn: Date | null;
}

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface FailedJob {
  id: string;
  kind: JobKind;
  data: unknown;
  retryCount: number;
  reason: string;
  completedOn: Date | null;
}

const queueName = (kind: JobKind) => `medgrid-storage-${kind}`;
const kindOf = (name: string): JobKind | null => {
  const k = name.slice('medgrid-storage-'.length);
  return (JOB_KINDS as readonly string[]).includes(k) ? (k as JobKind) : null;
};

/**
 * The storage job queue, on pg-boss (PostgreSQL). Idempotency: each job is keyed (kind + object id) so a
 * second send while one is queued is dropped, and every handler checks the database before acting.
 */
export class StorageQueue {
  readonly boss: PgBoss;
  private readonly opts: Required<Omit<QueueOptions, 'connectionString' | 'schema' | 'client'>>;
  private readonly schema: string;
  /** Retry settings given explicitly (worker env): only then are existing queues updated to them. */
  private readonly explicit: boolean;
  private readonly client: boolean;
  private started = false;

  constructor(opts: QueueOptions) {
    this.schema = opts.schema ?? 'pgboss';
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) throw new Error(`bad pg-boss schema name ${this.schema}`);
    this.client = opts.client ?? false;
    this.explicit = (
      ['retryLimit', 'retryDelay', 'retryDelayMax', 'heartbeatSeconds', 'expireInSeconds'] as const
    ).some((k) => opts[k] !== undefined);
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
      schema: this.schema,
      max: this.client ? 2 : 4,
      ...(this.client ? { supervise: false, schedule: false } : {}),
      monitorIntervalSeconds: this.opts.monitorIntervalSeconds,
      superviseIntervalSeconds: this.opts.monitorIntervalSeconds,
      application_name: this.client ? 'medgrid-storage-client' : 'medgrid-worker',
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
      // A process started without retry settings (the server) must not reset the worker's.
      if (existing && this.explicit && !this.client) await this.boss.updateQueue(queueName(kind), q);
      else if (!existing) await this.boss.createQueue(queueName(kind), q);
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

  /**
   * Jobs of every kind in the given states, newest first (read from pg-boss's job table: `findJobs` lists
   * oldest first per queue, and completed store jobs are many).
   */
  async list(opts: {
    states: readonly JobState[];
    kinds?: readonly JobKind[];
    limit?: number;
  }): Promise<JobInfo[]> {
    const kinds = opts.kinds ?? JOB_KINDS;
    const r = await this.boss.getDb().executeSql(
      `select id::text, name, state::text as state, data, output, retry_count, retry_limit, created_on, started_on,
              completed_on
         from ${this.schema}.job
        where name = any($1::text[]) and state::text = any($2::text[])
        order by created_on desc, id
        limit $3`,
      [kinds.map(queueName), [...opts.states], opts.limit ?? 200],
    );
    return r.rows.map(toJobInfo).filter((j): j is JobInfo => j !== null);
  }

  /** One storage job by id, whatever its kind; null when unknown. */
  async find(id: string): Promise<JobInfo | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const r = await this.boss.getDb().executeSql(
      `select id::text, name, state::text as state, data, output, retry_count, retry_limit, created_on, started_on,
              completed_on
         from ${this.schema}.job where id = $1::uuid and name = any($2::text[])`,
      [id, JOB_KINDS.map(queueName)],
    );
    return r.rows.map(toJobInfo)[0] ?? null;
  }

  /** Jobs per kind and state (every job pg-boss still keeps). */
  async counts(): Promise<{ kind: JobKind; state: JobState; count: number }[]> {
    const r = await this.boss.getDb().executeSql(
      `select name, state::text as state, count(*)::int as count from ${this.schema}.job
        where name = any($1::text[]) group by name, state order by name, state`,
      [JOB_KINDS.map(queueName)],
    );
    return r.rows.flatMap((row) => {
      const kind = kindOf(String(row.name));
      return kind ? [{ kind, state: row.state as JobState, count: Number(row.count) }] : [];
    });
  }

  /** Graceful: waits up to timeoutMs for jobs in flight; those still running are failed back for retry. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: timeoutMs });
  }
}

function toJobInfo(row: Record<string, unknown>): JobInfo | null {
  const kind = kindOf(String(row.name));
  if (!kind) return null;
  const state = row.state as JobState;
  return {
    id: String(row.id),
    kind,
    state,
    data: row.data,
    retryCount: Number(row.retry_count),
    retryLimit: Number(row.retry_limit),
    reason: state === 'failed' || state === 'retry' ? reasonOf(row.output) : '',
    output: row.output ?? null,
    createdOn: new Date(row.created_on as string),
    startedOn: row.started_on ? new Date(row.started_on as string) : null,
    completedOn: row.completed_on ? new Date(row.completed_on as string) : null,
  };
}

export function reasonOf(output: unknown): string {
  if (output && typeof output === 'object') {
    const o = output as { message?: unknown; value?: unknown };
    if (typeof o.message === 'string') return o.message;
    if (typeof o.value === 'string') return o.value;
  }
  return output === undefined || output === null ? '' : JSON.stringify(output);
}
