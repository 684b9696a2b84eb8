import {
  changeSeStatus,
  type JobInfo,
  type JobState,
  type ScanReport,
  type SeStatus,
  StorageElement,
  UnknownSeError,
} from '@medgrid/worker';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type Actor, AuditService } from '../audit/audit.service.js';
import { badInput, conflict, notFound } from '../auth/errors.js';
import type { StorageAdminRuntime } from './storage-admin.runtime.js';

/** What an administrator may do to an SE, and the status each sets. Lost is for the CLI (it is not undone). */
export const SE_ACTIONS = { enable: 'up', disable: 'down', drain: 'draining' } as const satisfies Record<
  string,
  SeStatus
>;
export type SeAction = keyof typeof SE_ACTIONS;

export interface SeSummary {
  name: string;
  url: string;
  status: SeStatus;
  weight: number;
  quotaBytes: number | null;
  usedBytes: number;
  /** Replicas on the SE in state ok, and their bytes. */
  objects: number;
  objectBytes: number;
  /** Replicas on the SE that are bad, missing or lost. */
  problemReplicas: number;
}

export interface ReplicationHealth {
  objects: number;
  /** At least as many good copies as the object's policy asks. */
  healthy: number;
  underReplicated: number;
  /** Not a single good copy (only in the spool, or lost). */
  withoutCopy: number;
  replicasByState: { state: string; count: number }[];
  /** The first under-replicated objects (ids are content hashes, not patient data). */
  worst: { objectId: string; copies: number; good: number }[];
}

export interface IngestDay {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  objects: number;
  bytes: number;
}

export interface ScanReportSummary {
  jobId: string;
  se: string;
  finishedAt: Date | null;
  listed: number;
  dark: number;
  missing: number;
  quarantined: number;
  repairQueued: number;
  /** A few dark paths and missing object ids (hashes only) to look at. */
  darkSample: string[];
  missingSample: string[];
}

export const PENDING_STATES: readonly JobState[] = ['created', 'retry', 'active'];

/**
 * Storage administration over the worker's tables (storage_element, storage_object, storage_replica, under
 * the server's migrations) and its pg-boss queue. Status changes take effect in the worker's next job: it
 * reads SE status from the database each time. Every change is audited with the change itself.
 */
export class StorageAdminService {
  private readonly audit: AuditService;

  constructor(
    private readonly em: EntityManager,
    private readonly runtime: StorageAdminRuntime,
  ) {
    this.audit = new AuditService(em);
  }

  async storageElements(): Promise<SeSummary[]> {
    const ses = await this.em.find(StorageElement, {}, { orderBy: { name: 'asc' } });
    const rows: { se_id: number; objects: string; bytes: string; problems: string }[] = await this.em
      .getConnection()
      .execute(
        `select se_id, count(*) filter (where state = 'ok') as objects,
                coalesce(sum(size) filter (where state = 'ok'), 0) as bytes,
                count(*) filter (where state <> 'ok') as problems
           from storage_replica group by se_id`,
      );
    const by = new Map(rows.map((r) => [Number(r.se_id), r]));
    return ses.map((se) => {
      const r = by.get(se.id);
      return {
        name: se.name,
        url: se.url,
        status: se.status,
        weight: se.weight,
        quotaBytes: se.quotaBytes == null ? null : Number(se.quotaBytes),
        usedBytes: Number(se.usedBytes),
        objects: Number(r?.objects ?? 0),
        objectBytes: Number(r?.bytes ?? 0),
        problemReplicas: Number(r?.problems ?? 0),
      };
    });
  }

  /** Enable, disable or drain an SE. Draining queues a replicate job per object it holds. */
  async setSeStatus(actor: Actor, name: string, action: SeAction): Promise<SeSummary> {
    const status = SE_ACTIONS[action];
    if (!status) throw badInput(`unknown SE action ${String(action)}`);
    const se = await this.em.findOne(StorageElement, { name });
    if (!se) throw notFound(`SE ${name}`);
    const from = se.status;
    if (from === 'lost' && action !== 'enable') throw conflict(`SE ${name} is lost; enable it first`);
    const queue = action === 'drain' ? await this.runtime.jobQueue() : noQueue;
    // Persisted now, committed by changeSeStatus's flush together with the status.
    const ev = this.audit.record(actor, `storage.se.${action}`, `se:${name}`, { from, to: status });
    let queued: number;
    try {
      queued = await changeSeStatus(this.em, queue, name, status);
    } catch (e) {
      if (e instanceof UnknownSeError) throw notFound(`SE ${name}`);
      throw e;
    }
    if (queued) {
      ev.details = { from, to: status, replicateJobs: queued };
      await this.em.flush();
    }
    const out = (await this.storageElements()).find((s) => s.name === name);
    if (!out) throw notFound(`SE ${name}`);
    return out;
  }

  async replicationHealth(): Promise<ReplicationHealth> {
    const conn = this.em.getConnection();
    // Good copies count as the worker counts them (replica.util `counts`): ok, on an SE that is up, read-only or
    // down (a down SE is expected back); draining and lost SEs do not count.
    const perObject: { objects: string; healthy: string; under: string; none: string }[] = await conn.execute(
      `with c as (
         select o.id, o.copies,
                count(r.id) filter (where r.state = 'ok' and se.status in ('up', 'read-only', 'down')) as good
           from storage_object o
           left join storage_replica r on r.object_id = o.id
           left join storage_element se on se.id = r.se_id
          where not o.delete_requested
          group by o.id, o.copies)
       select count(*) as objects, count(*) filter (where good >= copies) as healthy,
              count(*) filter (where good < copies) as under, count(*) filter (where good = 0) as none
         from c`,
    );
    const states: { state: string; count: string }[] = await conn.execute(
      'select state, count(*) as count from storage_replica group by state order by state',
    );
    const worst: { id: string; copies: number; good: string }[] = await conn.execute(
      `select o.id, o.copies,
              count(r.id) filter (where r.state = 'ok' and se.status in ('up', 'read-only', 'down')) as good
         from storage_object o
         left join storage_replica r on r.object_id = o.id
         left join storage_element se on se.id = r.se_id
        where not o.delete_requested
        group by o.id, o.copies
       having count(r.id) filter (where r.state = 'ok' and se.status in ('up', 'read-only', 'down')) < o.copies
        order by good asc, o.id
        limit 20`,
    );
    const p = perObject[0];
    return {
      objects: Number(p?.objects ?? 0),
      healthy: Number(p?.healthy ?? 0),
      underReplicated: Number(p?.under ?? 0),
      withoutCopy: Number(p?.none ?? 0),
      replicasByState: states.map((s) => ({ state: s.state, count: Number(s.count) })),
      worst: worst.map((w) => ({ objectId: w.id, copies: Number(w.copies), good: Number(w.good) })),
    };
  }

  /** Objects (and bytes) that reached the storage worker per UTC day, the last `days` days including today. */
  async ingestPerDay(days: number, now = new Date()): Promise<IngestDay[]> {
    if (!Number.isInteger(days) || days < 1 || days > 366) throw badInput('days must be 1 to 366');
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const since = new Date(today - (days - 1) * 864e5);
    const rows: { day: string; objects: string; bytes: string }[] = await this.em.getConnection().execute(
      `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as objects,
              coalesce(sum(size), 0) as bytes
         from storage_object where created_at >= ? group by 1`,
      [since],
    );
    const by = new Map(rows.map((r) => [r.day, r]));
    return Array.from({ length: days }, (_, i) => {
      const day = new Date(since.getTime() + i * 864e5).toISOString().slice(0, 10);
      const r = by.get(day);
      return { day, objects: Number(r?.objects ?? 0), bytes: Number(r?.bytes ?? 0) };
    });
  }

  /** Pending (queued, waiting for a retry, running) or failed jobs, newest first, and counts per kind/state. */
  async jobs(which: 'pending' | 'failed', limit: number): Promise<JobInfo[]> {
    const q = await this.runtime.jobQueue();
    return q.list({ states: which === 'failed' ? ['failed'] : PENDING_STATES, limit });
  }

  async jobCounts(): Promise<{ kind: string; state: string; count: number }[]> {
    return (await this.runtime.jobQueue()).counts();
  }

  /** Requeues a failed job (pg-boss retry: same id, same payload). */
  async retryJob(actor: Actor, id: string): Promise<JobInfo> {
    const q = await this.runtime.jobQueue();
    const job = await q.find(id);
    if (!job) throw notFound(`job ${id}`);
    if (job.state !== 'failed') throw conflict(`job ${id} is ${job.state}, only a failed job can be retried`);
    this.audit.record(actor, 'storage.job.retry', `job:${id}`, { kind: job.kind, data: job.data });
    await this.em.flush();
    await q.retry(job.kind, id);
    return (await q.find(id)) ?? job;
  }

  /** Queues a consistency scan of one SE (repair: quarantine dark files, re-copy missing ones). */
  async startScan(actor: Actor, se: string, repair: boolean): Promise<string> {
    if (!(await this.em.findOne(StorageElement, { name: se }))) throw notFound(`SE ${se}`);
    const q = await this.runtime.jobQueue();
    const id = await q.send('scan', { se, repair, graceSeconds: 3600 });
    if (!id) throw conflict(`a scan of ${se} is already queued`);
    this.audit.record(actor, 'storage.scan.start', `se:${se}`, { repair, jobId: id });
    await this.em.flush();
    return id;
  }

  /** Finished consistency scans, newest first, from the scan jobs' results. */
  async scanReports(limit: number): Promise<ScanReportSummary[]> {
    const q = await this.runtime.jobQueue();
    const jobs = await q.list({ states: ['completed'], kinds: ['scan'], limit });
    return jobs.flatMap((j) => {
      const r = j.output as Partial<ScanReport> | null;
      if (!r || typeof r.se !== 'string') return [];
      return [
        {
          jobId: j.id,
          se: r.se,
          finishedAt: j.completedOn,
          listed: r.listed ?? 0,
          dark: (r.dark?.length ?? 0) + (r.darkUnsafeNames ?? 0),
          missing: r.missing?.length ?? 0,
          quarantined: r.quarantined?.length ?? 0,
          repairQueued: r.repairQueued?.length ?? 0,
          darkSample: (r.dark ?? []).slice(0, 10),
          missingSample: (r.missing ?? []).slice(0, 10),
        },
      ];
    });
  }
}

/** Enable and disable queue nothing. */
const noQueue = {
  send: async () => {
    throw new Error('no jobs are queued for this status change');
  },
};
