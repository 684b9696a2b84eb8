import { Counter, Histogram, Registry } from 'prom-client';

/** The worker's Prometheus metrics; the server can merge this registry into its /metrics. Labels carry SE
 * names and job kinds only. */
export const storageRegistry = new Registry();

export const jobsTotal = new Counter({
  name: 'medgrid_storage_jobs_total',
  help: 'Storage jobs handled, by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  registers: [storageRegistry],
});

export const bytesStored = new Counter({
  name: 'medgrid_storage_bytes_stored_total',
  help: 'Bytes written to SEs and verified',
  labelNames: ['se'] as const,
  registers: [storageRegistry],
});

export const jobSeconds = new Histogram({
  name: 'medgrid_storage_job_seconds',
  help: 'Storage job duration',
  labelNames: ['kind'] as const,
  buckets: [0.05, 0.25, 1, 5, 30, 120, 600],
  registers: [storageRegistry],
});
