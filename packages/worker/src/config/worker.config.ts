import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SeCredentials } from '../backends/credentials.util.js';
import type { SeInput, StorageWorkerConfig } from '../queue/storage.worker.js';

export interface WorkerEnvConfig extends StorageWorkerConfig {
  /** SEs to register at start-up (MEDGRID_SE_URLS), or the embedded local-directory SE. */
  ses: SeInput[];
}

function num(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const v = env[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${key} must be a number`);
  return n;
}

/**
 * MEDGRID_SE_URLS: comma-separated `name=url` or `name=url@weight`, e.g.
 * `se1=davs://se1.example:8443/store@2,se2=davs://se2.example:8443/store`.
 */
export function parseSeUrls(spec: string): SeInput[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new Error('MEDGRID_SE_URLS entries look like name=url[@weight]');
      const name = item.slice(0, eq);
      let url = item.slice(eq + 1);
      let weight: number | undefined;
      const at = url.lastIndexOf('@');
      if (at > 0 && /^\d+$/.test(url.slice(at + 1))) {
        weight = Number(url.slice(at + 1));
        url = url.slice(0, at);
      }
      return weight === undefined ? { name, url } : { name, url, weight };
    });
}

/** Worker configuration from the environment (documented in the package README). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnvConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('the worker needs DATABASE_URL');
  const dataDir = resolve(env.MEDGRID_DATA_DIR || '.medgrid');
  const credentials: SeCredentials = {};
  if (env.MEDGRID_ROBOT_PROXY) credentials.proxyFile = env.MEDGRID_ROBOT_PROXY;
  if (env.MEDGRID_ROBOT_CERT) credentials.certFile = env.MEDGRID_ROBOT_CERT;
  if (env.MEDGRID_ROBOT_KEY) credentials.keyFile = env.MEDGRID_ROBOT_KEY;
  if (env.MEDGRID_SE_CAPATH) credentials.caDir = env.MEDGRID_SE_CAPATH;
  if (env.MEDGRID_SE_CA) credentials.caFile = env.MEDGRID_SE_CA;
  const ses = env.MEDGRID_SE_URLS
    ? parseSeUrls(env.MEDGRID_SE_URLS)
    : [{ name: 'local', url: pathToFileURL(join(dataDir, 'se')).href }];
  const queue: NonNullable<StorageWorkerConfig['queue']> = {};
  const q = (k: keyof typeof queue, key: string) => {
    const v = num(env, key);
    if (v !== undefined) (queue as Record<string, number>)[k] = v;
  };
  q('retryLimit', 'MEDGRID_QUEUE_RETRY_LIMIT');
  q('retryDelay', 'MEDGRID_QUEUE_RETRY_DELAY');
  q('retryDelayMax', 'MEDGRID_QUEUE_RETRY_DELAY_MAX');
  q('heartbeatSeconds', 'MEDGRID_QUEUE_HEARTBEAT_SECONDS');
  q('monitorIntervalSeconds', 'MEDGRID_QUEUE_MONITOR_SECONDS');
  q('pollingIntervalSeconds', 'MEDGRID_QUEUE_POLL_SECONDS');
  return {
    databaseUrl,
    stageDir: join(dataDir, 'stage'),
    stageMaxBytes: num(env, 'MEDGRID_STAGE_MAX_BYTES') ?? 10 * 2 ** 30,
    concurrency: num(env, 'MEDGRID_WORKER_CONCURRENCY') ?? 2,
    credentials,
    queue,
    ses,
  };
}
