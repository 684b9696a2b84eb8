#!/usr/bin/env node
import { pino } from 'pino';
import { configFromEnv } from './config/worker.config.js';
import { ensureStorageSchema, StorageWorker } from './queue/storage.worker.js';

/**
 * Storage worker process, run by `medgrid start` or on its own with DATABASE_URL (see README for the
 * environment). Takes store/verify/stage/replicate/delete/scan jobs from the PostgreSQL queue until SIGTERM,
 * then finishes jobs in flight (or releases them for retry) before exiting.
 */
async function main(): Promise<void> {
  const log = pino({
    name: 'medgrid-worker',
    level: process.env.MEDGRID_LOG_LEVEL || 'info',
    base: { service: 'medgrid-worker', pid: process.pid },
    // Same line shape as the server's logs, so one collector parses all three processes.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
  const cfg = configFromEnv();
  const worker = await StorageWorker.create({ ...cfg, logger: log });
  // Standalone runs create missing storage tables (safe mode: never drops anything); `medgrid start` turns this
  // off because the server's migrations own them.
  if (process.env.MEDGRID_WORKER_SCHEMA !== 'off') await ensureStorageSchema(worker.orm);
  for (const se of cfg.ses) await worker.upsertSe(se);
  await worker.run();
  log.info({ ses: cfg.ses.map((s) => s.name), concurrency: cfg.concurrency }, 'worker ready');
  process.send?.({ type: 'ready', service: 'worker' });

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'worker shutting down');
    await worker.stop(Number(process.env.MEDGRID_WORKER_STOP_TIMEOUT_MS || 30_000));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  if (process.send) process.on('disconnect', () => void stop('supervisor gone'));
}

main().catch((err: Error) => {
  const msg = (err.message ?? String(err)).split('\n')[0] ?? 'unknown error';
  if (process.send && process.connected) {
    process.send({ type: 'fatal', service: 'worker', message: msg }, () => process.exit(1));
  } else {
    process.stderr.write(`medgrid-worker: ${msg}\n`);
    process.exit(1);
  }
});
