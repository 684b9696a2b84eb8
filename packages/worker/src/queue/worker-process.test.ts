import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { contentPath } from '../backends/path.util.js';
import { Replica } from '../replicas/storage.entity.js';
import { GridSe } from '../testing/grid-se.harness.js';
import { ThrowawayDb } from '../testing/pg.harness.js';
import { ensureStorageSchema, StorageWorker } from './storage.worker.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.js');

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

describe('worker processes (medgrid-worker) killed and stopped mid-upload', () => {
  const se = new GridSe();
  const db = new ThrowawayDb();
  let server: StorageWorker;
  let scratch = '';
  const children: ChildProcess[] = [];

  const startWorker = async (): Promise<ChildProcess> => {
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      MEDGRID_DATA_DIR: join(scratch, `worker-${children.length}`),
      MEDGRID_SE_URLS: `se1=${se.url(1)},se2=${se.url(2)}`,
      MEDGRID_ROBOT_CERT: se.v('MEDGRID_ROBOT_CERT'),
      MEDGRID_ROBOT_KEY: se.v('MEDGRID_ROBOT_KEY'),
      MEDGRID_SE_CAPATH: se.v('MEDGRID_SE_CAPATH'),
      MEDGRID_QUEUE_HEARTBEAT_SECONDS: '10',
      MEDGRID_QUEUE_MONITOR_SECONDS: '1',
      MEDGRID_QUEUE_RETRY_DELAY: '1',
      MEDGRID_QUEUE_RETRY_DELAY_MAX: '2',
      MEDGRID_QUEUE_POLL_SECONDS: '0.5',
      MEDGRID_LOG_LEVEL: 'warn',
      // A loaded 2-core CI machine can take well over the default 30 s to finish the in-flight upload.
      MEDGRID_WORKER_STOP_TIMEOUT_MS: '180000',
    };
    const child = fork(MAIN, [], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m: { type?: string; message?: string }) => {
        if (m.type === 'ready') resolve();
        if (m.type === 'fatal') reject(new Error(m.message));
      });
      child.on('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    });
    return child;
  };

  const exited = (c: ChildProcess) =>
    new Promise<number | null>((resolve) =>
      c.exitCode !== null || c.signalCode !== null
        ? resolve(c.exitCode)
        : c.on('exit', (code) => resolve(code)),
    );

  const waitPartial = async (objectId: string, size: number) => {
    const paths = [1, 2].map((n) => join(se.data(n as 1 | 2), contentPath(objectId)));
    for (let i = 0; i < 2000; i++) {
      if (paths.some((p) => existsSync(p) && statSync(p).size > 0 && statSync(p).size < size)) return;
      await sleep(5);
    }
    throw new Error('upload never started');
  };

  const spoolFile = (bytes: Buffer): string => {
    const p = join(scratch, 'spool', randomBytes(8).toString('hex'));
    writeFileSync(p, bytes);
    return p;
  };

  before(async () => {
    await Promise.all([se.start(), db.create()]);
    scratch = mkdtempSync(join(tmpdir(), 'medgrid-proc-'));
    mkdirSync(join(scratch, 'spool'));
    // The "server" side: registers objects and queues jobs, takes none.
    server = await StorageWorker.create({
      databaseUrl: db.url,
      stageDir: join(scratch, 'server-stage'),
      credentials: se.robot(),
      logger: pino({ level: 'silent' }),
      queue: { heartbeatSeconds: 10, monitorIntervalSeconds: 1, retryDelay: 1, retryDelayMax: 2 },
    });
    await ensureStorageSchema(server.orm);
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await server?.stop(2000);
    await db.drop();
    await se.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('SIGKILL mid-upload: another worker completes the job, with no duplicate and no orphan', async () => {
    const a = await startWorker();
    const body = randomBytes(160 * 1024 * 1024);
    const { objectId, jobId } = await server.ingest(spoolFile(body), { copies: 2 });
    await waitPartial(objectId, body.length);
    a.kill('SIGKILL');
    await exited(a);
    await startWorker();
    const job = await server.queue.waitFor('store', jobId!, 90_000);
    assert.equal(job.state, 'completed', JSON.stringify(job.output));
    const reps = await server.orm.em.fork().find(Replica, { object: objectId }, { populate: ['se'] });
    assert.deepEqual(reps.map((r) => [r.se.name, r.state, Number(r.size)]).sort(), [
      ['se1', 'ok', body.length],
      ['se2', 'ok', body.length],
    ]);
    // Nothing else on either SE: no second copy under another name, no partial file left behind.
    for (const n of [1, 2] as const) assert.deepEqual(filesUnder(se.data(n)), [contentPath(objectId)]);
    for (const name of ['se1', 'se2']) {
      const r = await server.handlers().scan!(
        { se: name, repair: false },
        { id: 'x', signal: new AbortController().signal, retryCount: 0 },
      );
      assert.deepEqual([(r as { dark: string[] }).dark, (r as { missing: string[] }).missing], [[], []]);
    }
  });

  it('two worker processes side by side store every object exactly once', async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const [w1, w2] = await Promise.all([startWorker(), startWorker()]);
    const before = [1, 2].map((n) => filesUnder(se.data(n as 1 | 2)).length);
    const sent = [];
    for (let i = 0; i < 16; i++)
      sent.push(await server.ingest(spoolFile(randomBytes(200_000 + i)), { copies: 2 }));
    for (const s of sent) {
      const j = await server.queue.waitFor('store', s.jobId!, 60_000);
      assert.equal(j.state, 'completed', JSON.stringify(j.output));
    }
    const reps = await server.orm.em.fork().find(Replica, { object: { $in: sent.map((s) => s.objectId) } });
    assert.equal(reps.length, 32);
    assert.ok(reps.every((r) => r.state === 'ok'));
    assert.deepEqual(
      [1, 2].map((n) => filesUnder(se.data(n as 1 | 2)).length - before[n - 1]!),
      [16, 16],
    );
    w1.kill('SIGTERM');
    w2.kill('SIGTERM');
    assert.deepEqual(await Promise.all([exited(w1), exited(w2)]), [0, 0]);
  });

  it('SIGTERM mid-upload: the worker finishes the job in flight, then exits 0', async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const w = await startWorker();
    const body = randomBytes(96 * 1024 * 1024);
    const { objectId, jobId } = await server.ingest(spoolFile(body), { copies: 2 });
    await waitPartial(objectId, body.length);
    w.kill('SIGTERM');
    assert.equal(await exited(w), 0);
    const job = await server.queue.job('store', jobId!);
    assert.equal(job?.state, 'completed', JSON.stringify(job?.output));
    for (const n of [1, 2] as const)
      assert.equal(statSync(join(se.data(n), contentPath(objectId))).size, body.length);
  });
});
