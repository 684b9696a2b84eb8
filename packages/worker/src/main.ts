#!/usr/bin/env node
import pg from 'pg';
import { pino } from 'pino';

/**
 * Storage worker process, run by `medgrid start` or on its own with DATABASE_URL.
 * It proves the database is reachable, reports ready to its supervisor and stays up until told to stop;
 * the job loop (store, verify, stage, replicate, delete, scan) hangs off this entry point.
 */
async function main(): Promise<void> {
  const log = pino({
    name: 'medgrid-worker',
    level: process.env.MEDGRID_LOG_LEVEL || 'info',
    base: { service: 'medgrid-worker' },
  });
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('the worker needs DATABASE_URL');
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await pool.query('select 1');
  log.info('worker ready');
  process.send?.({ type: 'ready', service: 'worker' });

  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'worker shutting down');
    await pool.end();
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
