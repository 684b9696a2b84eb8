import type { ObjectStat } from '../backends/backend.types.js';
import { safePath } from '../backends/path.util.js';
import { fork, type JobContext } from '../queue/job.context.js';
import { Replica, StorageElement } from '../replicas/storage.entity.js';

export const QUARANTINE = 'quarantine';

export interface ScanReport {
  se: string;
  listed: number;
  /** On the SE, not in the database. Names that are not safe object paths are counted, never echoed. */
  dark: string[];
  darkUnsafeNames: number;
  /** In the database, not on the SE (or with the wrong size): object ids. */
  missing: string[];
  quarantined: string[];
  repairQueued: string[];
}

/**
 * Consistency scan, as Rucio does it: list the SE recursively (PROPFIND) and compare with the replica table.
 * Repair: missing replicas are marked and copied again from a good one; dark files older than the grace
 * period (so uploads in flight are left alone) are moved to quarantine/<date>/ rather than deleted.
 */
export async function scanJob(
  ctx: JobContext,
  seName: string,
  opts: { repair?: boolean; graceSeconds?: number } = {},
): Promise<ScanReport> {
  const repair = opts.repair ?? true;
  const graceMs = (opts.graceSeconds ?? 3600) * 1000;
  const em = fork(ctx);
  const se = await em.findOneOrFail(
    StorageElement,
    { name: seName },
    { failHandler: () => new Error(`scan: no SE named ${seName}`) },
  );
  const backend = ctx.backends.get(se);
  const started = Date.now();
  const report: ScanReport = {
    se: seName,
    listed: 0,
    dark: [],
    darkUnsafeNames: 0,
    missing: [],
    quarantined: [],
    repairQueued: [],
  };

  const onSe = new Map<string, ObjectStat>();
  for await (const st of backend.list('')) {
    if (st.path === QUARANTINE || st.path.startsWith(`${QUARANTINE}/`)) continue;
    onSe.set(st.path, st);
  }
  report.listed = onSe.size;

  const replicas = await em.find(
    Replica,
    { se, state: { $in: ['ok', 'bad', 'missing'] } },
    { populate: ['object'] },
  );
  const known = new Set<string>();
  for (const r of replicas) {
    known.add(r.path);
    const st = onSe.get(r.path);
    if (st && st.size === Number(r.size)) continue;
    report.missing.push(r.object.id);
    if (repair) {
      r.state = st ? 'bad' : 'missing';
      r.lastError = st ? `scan: size ${st.size} on the SE, ${r.size} recorded` : 'scan: not on the SE';
    }
  }
  await em.flush();

  const day = new Date(started).toISOString().slice(0, 10);
  for (const [path, st] of onSe) {
    if (known.has(path)) continue;
    let safe = true;
    try {
      safePath(path);
    } catch {
      safe = false;
    }
    if (!safe) {
      report.darkUnsafeNames++;
      continue;
    }
    report.dark.push(path);
    const old = st.mtime ? started - st.mtime.getTime() >= graceMs : false;
    if (repair && old) {
      await backend.move(path, `${QUARANTINE}/${day}/${path}`);
      report.quarantined.push(path);
    }
  }
  if (repair) {
    for (const id of new Set(report.missing)) {
      await ctx.queue.send('replicate', { objectId: id });
      report.repairQueued.push(id);
    }
  }
  ctx.log.info(
    {
      se: seName,
      listed: report.listed,
      dark: report.dark.length + report.darkUnsafeNames,
      missing: report.missing.length,
    },
    'consistency scan done',
  );
  return report;
}
