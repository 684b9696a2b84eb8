import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  ApiClient,
  type ApiClientOptions,
  CLIENT_ARGS,
  CLIENT_USAGE,
  CliRefusal,
  clientOptionsFrom,
} from './api-client.js';

/**
 * `medgrid storage scan --se NAME`: a consistency scan of one SE through the API (the storage worker runs it),
 * waiting for its report: files on the SE the database does not know ("dark") and replicas the database lists
 * that the SE lacks ("missing"). Exit 0 when consistent, 1 when the scan found either, 3 when it failed.
 */

const USAGE = `usage: medgrid storage scan --se NAME [--repair] [--timeout SECONDS] ${CLIENT_USAGE}`;

export interface ScanReport {
  jobId: string;
  se: string;
  listed: number;
  dark: number;
  missing: number;
  quarantined: number;
  repairQueued: number;
  darkSample: string[];
  missingSample: string[];
}

interface FailedJob {
  id: string;
  reason: string;
}

const REPORT_FIELDS = 'jobId se listed dark missing quarantined repairQueued darkSample missingSample';

export async function runScan(
  opts: ApiClientOptions & { se: string; repair: boolean; timeoutMs: number; pollMs?: number },
): Promise<ScanReport> {
  const api = new ApiClient(opts);
  try {
    const { startConsistencyScan: jobId } = await api.graphql<{ startConsistencyScan: string }>(
      'mutation ($se: String!, $repair: Boolean!) { startConsistencyScan(se: $se, repair: $repair) }',
      { se: opts.se, repair: opts.repair },
    );
    const until = Date.now() + opts.timeoutMs;
    while (Date.now() < until) {
      const r = await api.graphql<{ scanReports: ScanReport[]; storageJobs: FailedJob[] }>(
        `{ scanReports(first: 50) { ${REPORT_FIELDS} } storageJobs(list: FAILED, first: 100) { id reason } }`,
      );
      const report = r.scanReports.find((s) => s.jobId === jobId);
      if (report) return report;
      const failed = r.storageJobs.find((j) => j.id === jobId);
      if (failed) throw new ScanFailed(`the scan of ${opts.se} failed: ${failed.reason}`);
      await delay(opts.pollMs ?? 1000);
    }
    throw new ScanFailed(
      `the scan of ${opts.se} did not finish in ${Math.round(opts.timeoutMs / 1000)} s (job ${jobId})`,
    );
  } finally {
    api.close();
  }
}

export class ScanFailed extends CliRefusal {}

export async function storageCommand(argv: string[], env = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'scan') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      ...CLIENT_ARGS,
      se: { type: 'string' },
      repair: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
  });
  const client = await clientOptionsFrom(values, env);
  if (!client || !values.se) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let report: ScanReport;
  try {
    report = await runScan({
      ...client,
      se: values.se,
      repair: values.repair,
      timeoutMs: Number(values.timeout) * 1000,
    });
  } catch (e) {
    if (!(e instanceof ScanFailed)) throw e;
    process.stderr.write(`medgrid: ${e.message}\n`);
    return 3;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(
    `scan of ${report.se}: ${report.listed} files listed, ${report.dark} dark, ${report.missing} missing, ` +
      `${report.quarantined} quarantined, ${report.repairQueued} repairs queued`,
  );
  for (const d of report.darkSample) say(`dark ${d}`);
  for (const m of report.missingSample) say(`missing ${m}`);
  return report.dark || report.missing ? 1 : 0;
}
