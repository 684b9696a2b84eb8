import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { contentPath, StorageWorker } from '@medgrid/worker';
import { pino } from 'pino';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { account, gql, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';

async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A GraphQL result row; the tests compare fields they asked for. */
// biome-ignore lint/suspicious/noExplicitAny: test rows are checked field by field against literals
type Row = Record<string, any>;

/**
 * The storage admin API end to end inside the server: real PostgreSQL (the server's migrations own the storage
 * tables), a real storage worker in this process on two local-directory SEs, the real pg-boss queue, and
 * GraphQL calls as a signed-in vo-admin. Who may call what is in auth/authz-matrix.test.ts.
 */
describe('storage admin API (real PostgreSQL, real worker and queue, local-directory SEs)', () => {
  let h: Harness;
  let worker: StorageWorker;
  let cookie = '';
  let scratch = '';
  const dir = (n: string) => path.join(scratch, `se-${n}`);
  const q = async <T = Record<string, Row>>(
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> => {
    const r = await gql(h, query, variables, cookie);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  };
  const ses = async () =>
    (await q<{ storageElements: Row[] }>('{ storageElements { name status objects objectBytes usedBytes } }'))
      .storageElements;
  const spoolFile = (bytes: Buffer) => {
    const p = path.join(scratch, 'spool', randomBytes(6).toString('hex'));
    writeFileSync(p, bytes);
    return p;
  };

  before(async () => {
    h = await startHarness();
    scratch = mkdtempSync(path.join(tmpdir(), 'medgrid-storage-admin-'));
    mkdirSync(path.join(scratch, 'spool'));
    worker = await StorageWorker.create({
      databaseUrl: h.db.url,
      stageDir: path.join(scratch, 'stage'),
      logger: pino({ level: 'silent' }),
      queue: { retryLimit: 0, retryDelay: 1, pollingIntervalSeconds: 0.5, monitorIntervalSeconds: 1 },
    });
    for (const n of ['alpha', 'beta', 'gamma']) {
      mkdirSync(dir(n));
      await worker.upsertSe({ name: n, url: pathToFileURL(dir(n)).href });
    }
    await worker.run();
    const admin = await account(h, {
      name: 'Storage Admin',
      facility: 'MedGrid',
      groupPath: '/medgrid',
      roles: ['vo-admin'],
    });
    cookie = await signIn(h, admin);
  });

  after(async () => {
    await worker?.stop(5000);
    await h?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const objects: string[] = [];
  test('SEs show their good replicas and bytes; ingest per day counts today', async () => {
    const before = await q<{ ingestPerDay: Row[] }>('{ ingestPerDay(days: 7) { day objects bytes } }');
    assert.equal(before.ingestPerDay.length, 7);
    assert.equal(before.ingestPerDay.at(-1)?.day, new Date().toISOString().slice(0, 10));
    assert.equal(before.ingestPerDay.at(-1)?.objects, 0);
    for (const size of [1000, 3000]) {
      const r = await worker.ingest(spoolFile(randomBytes(size)), { copies: 2 });
      assert.equal((await worker.queue.waitFor('store', r.jobId!)).state, 'completed');
      objects.push(r.objectId);
    }
    const list = await ses();
    assert.deepEqual(
      list.map((s) => s.name),
      ['alpha', 'beta', 'gamma'],
    );
    assert.equal(
      list.reduce((n, s) => n + s.objects, 0),
      4,
    );
    assert.equal(
      list.reduce((n, s) => n + s.objectBytes, 0),
      8000,
    );
    for (const s of list) assert.equal(s.usedBytes, s.objectBytes);
    const after = await q<{ ingestPerDay: Row[] }>('{ ingestPerDay(days: 7) { day objects bytes } }');
    assert.deepEqual(after.ingestPerDay.at(-1), {
      day: new Date().toISOString().slice(0, 10),
      objects: 2,
      bytes: 4000,
    });
    const health = await q<{ replicationHealth: Row }>(
      '{ replicationHealth { objects healthy underReplicated withoutCopy replicasByState { state count } } }',
    );
    assert.deepEqual(health.replicationHealth, {
      objects: 2,
      healthy: 2,
      underReplicated: 0,
      withoutCopy: 0,
      replicasByState: [{ state: 'ok', count: 4 }],
    });
  });

  test('disabling an SE: the worker writes nothing there; audited', async () => {
    const r = await q<{ setStorageElementStatus: Row }>(
      'mutation { setStorageElementStatus(name: "gamma", action: DISABLE) { name status } }',
    );
    assert.deepEqual(r.setStorageElementStatus, { name: 'gamma', status: 'DOWN' });
    for (let i = 0; i < 3; i++) {
      const o = await worker.ingest(spoolFile(randomBytes(500 + i)), { copies: 2 });
      assert.equal((await worker.queue.waitFor('store', o.jobId!)).state, 'completed');
      assert.ok(!existsSync(path.join(dir('gamma'), contentPath(o.objectId))), 'nothing on the disabled SE');
      assert.ok(existsSync(path.join(dir('alpha'), contentPath(o.objectId))));
    }
    const ev = await h.orm.em.fork().findOne(AuditEvent, { action: 'storage.se.disable' });
    assert.equal(ev?.target, 'se:gamma');
    assert.deepEqual(ev?.details, { from: 'up', to: 'down' });
    assert.match(ev?.actor ?? '', /Storage Admin/);
  });

  test('draining an SE: its copies move to the enabled SE and leave it; health stays good', async () => {
    await q('mutation { setStorageElementStatus(name: "gamma", action: ENABLE) { status } }');
    const before = (await ses()).find((s) => s.name === 'alpha')!;
    assert.ok(before.objects > 0);
    const r = await q<{ setStorageElementStatus: Row }>(
      'mutation { setStorageElementStatus(name: "alpha", action: DRAIN) { status } }',
    );
    assert.equal(r.setStorageElementStatus.status, 'DRAINING');
    const ev = await h.orm.em.fork().findOne(AuditEvent, { action: 'storage.se.drain' });
    assert.deepEqual(ev?.details, { from: 'up', to: 'draining', replicateJobs: before.objects });
    // The worker works through the replicate jobs; wait on the queue, not on a timer.
    for (;;) {
      const pending = await q<{ storageJobs: Row[] }>('{ storageJobs(list: PENDING) { id kind } }');
      if (pending.storageJobs.length === 0) break;
      await worker.queue.waitFor('replicate', pending.storageJobs[0]!.id);
    }
    const alpha = (await ses()).find((s) => s.name === 'alpha')!;
    assert.equal(alpha.objects, 0);
    for (const id of objects) assert.ok(!existsSync(path.join(dir('alpha'), contentPath(id))));
    const health = await q<{ replicationHealth: Row }>('{ replicationHealth { healthy underReplicated } }');
    assert.deepEqual(health.replicationHealth, { healthy: 5, underReplicated: 0 });
  });

  test('a job failed by an unreachable SE is listed with its reason and retried; bad ids are refused', async () => {
    await worker.upsertSe({ name: 'offline', url: `davs://127.0.0.1:${await closedPort()}/se` });
    const o = await worker.ingest(spoolFile(randomBytes(2048)), { copies: 3 });
    assert.equal((await worker.queue.waitFor('store', o.jobId!)).state, 'failed');
    const failed = await q<{ storageJobs: Row[] }>(
      '{ storageJobs(list: FAILED) { id kind state subject reason retryCount } }',
    );
    const job = failed.storageJobs.find((j) => j.id === o.jobId);
    assert.equal(job?.kind, 'store');
    assert.equal(job?.state, 'FAILED');
    assert.equal(job?.subject, o.objectId);
    assert.match(job?.reason, /^SE offline: 2 of 3 copies stored/);

    await q('mutation { setStorageElementStatus(name: "offline", action: DISABLE) { status } }');
    const retried = await q<{ retryStorageJob: Row }>(
      'mutation($id: ID!) { retryStorageJob(id: $id) { id state } }',
      {
        id: o.jobId,
      },
    );
    assert.equal(retried.retryStorageJob.id, o.jobId);
    assert.equal((await worker.queue.waitFor('store', o.jobId!)).state, 'completed');
    const ev = await h.orm.em.fork().findOne(AuditEvent, { action: 'storage.job.retry' });
    assert.equal(ev?.target, `job:${o.jobId}`);

    const again = await gql(
      h,
      'mutation($id: ID!) { retryStorageJob(id: $id) { id } }',
      { id: o.jobId },
      cookie,
    );
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
    assert.match(again.errors?.[0]?.message ?? '', /only a failed job can be retried/);
    const unknown = await gql(h, 'mutation { retryStorageJob(id: "nope") { id } }', {}, cookie);
    assert.equal(unknown.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    const noSe = await gql(
      h,
      'mutation { setStorageElementStatus(name: "nowhere", action: DRAIN) { status } }',
      {},
      cookie,
    );
    assert.equal(noSe.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    const counts = await q<{ storageJobCounts: Row[] }>('{ storageJobCounts { kind state count } }');
    assert.ok(
      counts.storageJobCounts.some((c) => c.kind === 'store' && c.state === 'COMPLETED' && c.count >= 6),
    );
  });

  test('a consistency scan finds a dark file and a missing replica; the report lists them', async () => {
    const dark = contentPath('f'.repeat(64));
    mkdirSync(path.dirname(path.join(dir('beta'), dark)), { recursive: true });
    writeFileSync(path.join(dir('beta'), dark), 'not ours');
    const gone = objects[0]!;
    rmSync(path.join(dir('beta'), contentPath(gone)), { force: true });
    const started = await q<{ startConsistencyScan: string }>(
      'mutation { startConsistencyScan(se: "beta", repair: false) }',
    );
    assert.equal((await worker.queue.waitFor('scan', started.startConsistencyScan)).state, 'completed');
    const reports = await q<{ scanReports: Row[] }>(
      '{ scanReports { jobId se listed dark missing darkSample missingSample } }',
    );
    const rep = reports.scanReports[0]!;
    assert.equal(rep.jobId, started.startConsistencyScan);
    assert.equal(rep.se, 'beta');
    assert.equal(rep.dark, 1);
    assert.deepEqual(rep.darkSample, [dark]);
    // After the drain every object is on beta and gamma, so exactly the removed one is missing.
    assert.equal(rep.missing, 1);
    assert.deepEqual(rep.missingSample, [gone]);
    assert.equal(rep.listed, (await ses()).find((s) => s.name === 'beta')?.objects);
    const ev = await h.orm.em.fork().findOne(AuditEvent, { action: 'storage.scan.start' });
    assert.equal(ev?.target, 'se:beta');
  });
});
