import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { contentPath } from '../backends/path.util.js';
import { digestOf } from '../checksum/digest.stream.js';
import { storageRegistry } from '../metrics/storage.metrics.js';
import { Replica, StoredObject } from '../replicas/storage.entity.js';
import { GridSe } from '../testing/grid-se.harness.js';
import { ThrowawayDb } from '../testing/pg.harness.js';
import { ensureStorageSchema, StorageWorker } from './storage.worker.js';

const run = promisify(execFile);

function flipByte(file: string, at: number): void {
  const st = statSync(file);
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
}

describe('storage jobs on pg-boss against two real XRootD SEs', () => {
  const se = new GridSe();
  const db = new ThrowawayDb();
  let w: StorageWorker;
  let scratch = '';
  let spool = '';

  const spoolFile = (bytes: Buffer): string => {
    const p = join(spool, randomBytes(8).toString('hex'));
    writeFileSync(p, bytes);
    return p;
  };

  const replicas = async (objectId: string) =>
    (
      await w.orm.em
        .fork()
        .find(Replica, { object: objectId }, { populate: ['se'], orderBy: { se: { name: 'asc' } } })
    ).map((r) => ({
      se: r.se.name,
      state: r.state,
      size: Number(r.size),
    }));

  before(async () => {
    await Promise.all([se.start(), db.create()]);
    scratch = mkdtempSync(join(tmpdir(), 'medgrid-jobs-'));
    spool = join(scratch, 'spool');
    mkdirSync(spool);
    w = await StorageWorker.create({
      databaseUrl: db.url,
      stageDir: join(scratch, 'stage'),
      stageMaxBytes: 8 * 1024 * 1024,
      credentials: se.robot(),
      concurrency: 2,
      logger: pino({ level: 'silent' }),
      queue: {
        retryLimit: 4,
        retryDelay: 1,
        retryDelayMax: 2,
        pollingIntervalSeconds: 0.5,
        heartbeatSeconds: 10,
        monitorIntervalSeconds: 1,
      },
    });
    await ensureStorageSchema(w.orm);
    await w.upsertSe({ name: 'se1', url: se.url(1), weight: 1 });
    await w.upsertSe({ name: 'se2', url: se.url(2), weight: 1 });
    await w.run();
  });

  after(async () => {
    await w?.stop(5000);
    await db.drop();
    await se.destroy();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('store puts two verified replicas; storing again changes nothing', async () => {
    const body = randomBytes(1024 * 1024 + 11);
    const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
    const job = await w.queue.waitFor('store', jobId!);
    assert.equal(job.state, 'completed', JSON.stringify(job.output));
    assert.deepEqual(await replicas(objectId), [
      { se: 'se1', state: 'ok', size: body.length },
      { se: 'se2', state: 'ok', size: body.length },
    ]);
    for (const n of [1, 2] as const)
      assert.ok(readFileSync(join(se.data(n), contentPath(objectId))).equals(body));
    // Both copies verified: the spool file is released, and the object is read back from the SEs.
    assert.equal((job.output as { spoolReleased?: boolean }).spoolReleased, true);
    assert.equal((await w.orm.em.fork().findOneOrFail(StoredObject, objectId)).spoolPath, null);
    assert.deepEqual(readdirSync(spool), []);
    const chunks: Buffer[] = [];
    for await (const c of await w.openObject(objectId)) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(body));
    const again = await w.ingest(spoolFile(body), { copies: 2 });
    assert.equal(again.objectId, objectId);
    const j2 = await w.queue.waitFor('store', again.jobId!);
    assert.equal(j2.state, 'completed');
    assert.deepEqual((j2.output as { stored: string[] }).stored, []);
    assert.equal((await replicas(objectId)).length, 2);
    const metrics = await storageRegistry.metrics();
    assert.match(metrics, /medgrid_storage_bytes_stored_total\{se="se1"\} \d+/);
    assert.match(metrics, /medgrid_storage_jobs_total\{kind="store",outcome="completed"\} [1-9]/);
  });

  it('while the policy asks for more copies than the SEs can hold, the spool file is kept', async () => {
    const body = randomBytes(64 * 1024);
    const file = spoolFile(body);
    const { objectId, jobId } = await w.ingest(file, { copies: 3 });
    const job = await w.queue.waitFor('store', jobId!);
    assert.equal(job.state, 'completed', JSON.stringify(job.output));
    assert.equal((job.output as { underReplicated: boolean }).underReplicated, true);
    assert.equal((job.output as { spoolReleased?: boolean }).spoolReleased, undefined);
    assert.ok(readFileSync(file).equals(body));
    assert.equal((await w.orm.em.fork().findOneOrFail(StoredObject, objectId)).spoolPath, file);
    // Back to a policy the SEs can meet: the next store releases it.
    const again = await w.ingest(file, { copies: 2 });
    assert.equal((await w.queue.waitFor('store', again.jobId!)).state, 'completed');
    assert.equal(existsSync(file), false);
  });

  it('a wrong robot certificate fails the job with "credentials refused" naming the SE; it can be retried', async () => {
    await w.upsertSe({
      name: 'se1',
      url: se.url(1),
      credentials: { certFile: se.v('MEDGRID_INTRUDER_CERT'), keyFile: se.v('MEDGRID_INTRUDER_KEY') },
    });
    try {
      const body = randomBytes(64 * 1024);
      const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
      const job = await w.queue.waitFor('store', jobId!, 30_000);
      assert.equal(job.state, 'failed');
      const failed = await w.queue.failed('store');
      const f = failed.find((x) => x.id === jobId);
      assert.ok(f, 'failed job listed');
      assert.match(f.reason, /^SE se1: 1 of 2 copies stored; credentials refused/);
      assert.deepEqual(await replicas(objectId), [{ se: 'se2', state: 'ok', size: body.length }]);
      // Fix the credentials, retry the failed job: it completes.
      await w.upsertSe({ name: 'se1', url: se.url(1), credentials: null });
      await w.queue.retry('store', jobId!);
      assert.equal((await w.queue.waitFor('store', jobId!)).state, 'completed');
      assert.equal((await replicas(objectId)).length, 2);
    } finally {
      await w.upsertSe({ name: 'se1', url: se.url(1), credentials: null });
    }
  });

  it('verify detects a flipped byte in one SE and the replica is repaired from the other', async () => {
    const body = randomBytes(700_000);
    const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
    assert.equal((await w.queue.waitFor('store', jobId!)).state, 'completed');
    // Without the spool, the repair has to come from the other SE.
    const em = w.orm.em.fork();
    const obj = await em.findOneOrFail(StoredObject, objectId);
    obj.spoolPath = null;
    await em.flush();
    const onSe1 = join(se.data(1), contentPath(objectId));
    flipByte(onSe1, 4242);
    const vid = await w.queue.send('verify', { objectId, mode: 'full' });
    const v = await w.queue.waitFor('verify', vid!);
    assert.equal(v.state, 'completed');
    assert.deepEqual(
      (v.output as { bad: Array<{ se: string }> }).bad.map((b) => b.se),
      ['se1'],
    );
    // The repair runs as a replicate job.
    for (let i = 0; i < 100 && !readFileSync(onSe1).equals(body); i++) await sleep(100);
    assert.ok(readFileSync(onSe1).equals(body), 'se1 copy repaired');
    for (let i = 0; i < 50 && (await replicas(objectId)).some((r) => r.state !== 'ok'); i++) await sleep(100);
    assert.deepEqual(
      (await replicas(objectId)).map((r) => r.state),
      ['ok', 'ok'],
    );
  });

  it('an SE stopped mid-upload: the job retries and completes when it returns, nothing lost', async () => {
    const body = randomBytes(128 * 1024 * 1024);
    const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
    const target = join(se.data(1), contentPath(objectId));
    for (let i = 0; i < 1000 && !(existsSync(target) && statSync(target).size > 0); i++) await sleep(5);
    assert.ok(statSync(target).size < body.length, 'killed while the upload was running');
    se.kill(1);
    // Let at least one attempt fail against the dead SE, then bring it back.
    for (let i = 0; i < 100; i++) {
      const j = await w.queue.job('store', jobId!);
      if (j && j.retryCount > 0) break;
      await sleep(100);
    }
    await se.start();
    const job = await w.queue.waitFor('store', jobId!, 60_000);
    assert.equal(job.state, 'completed', JSON.stringify(job.output));
    assert.ok(job.retryCount >= 1, 'it took a retry');
    assert.deepEqual(await replicas(objectId), [
      { se: 'se1', state: 'ok', size: body.length },
      { se: 'se2', state: 'ok', size: body.length },
    ]);
    for (const n of [1, 2] as const) {
      const back = await digestOf(
        await w.backends
          .get({ id: -n, name: `se${n}`, url: se.url(n), credentials: se.robot() })
          .get(contentPath(objectId)),
      );
      assert.equal(back.sha256, objectId);
    }
  });

  it('scan reports a davix-put file as dark and quarantines it; a vanished replica as missing and repairs it', async () => {
    const body = randomBytes(100_000);
    const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
    assert.equal((await w.queue.waitFor('store', jobId!)).state, 'completed');
    const stray = join(scratch, 'stray');
    writeFileSync(stray, randomBytes(5000));
    await run('davix-put', [...se.davixAuth(), stray, `${se.httpsUrl(2)}/objects/zz/stray-by-davix`], {
      timeout: 30_000,
    });
    rmSync(join(se.data(2), contentPath(objectId)));
    const sid = await w.queue.send('scan', { se: 'se2', repair: true, graceSeconds: 0 });
    const s = await w.queue.waitFor('scan', sid!);
    assert.equal(s.state, 'completed', JSON.stringify(s.output));
    const rep = s.output as { dark: string[]; missing: string[]; quarantined: string[] };
    assert.deepEqual(rep.dark, ['objects/zz/stray-by-davix']);
    assert.deepEqual(rep.quarantined, ['objects/zz/stray-by-davix']);
    assert.deepEqual(rep.missing, [objectId]);
    assert.ok(!existsSync(join(se.data(2), 'objects/zz/stray-by-davix')));
    assert.equal(
      readdirSync(join(se.data(2), 'quarantine'), { recursive: true }).some((f) =>
        String(f).endsWith('stray-by-davix'),
      ),
      true,
    );
    const p2 = join(se.data(2), contentPath(objectId));
    for (let i = 0; i < 100 && !existsSync(p2); i++) await sleep(100);
    for (let i = 0; i < 50 && (await replicas(objectId)).some((r) => r.state !== 'ok'); i++) await sleep(100);
    assert.ok(readFileSync(p2).equals(body));
    assert.deepEqual(
      (await replicas(objectId)).map((r) => r.state),
      ['ok', 'ok'],
    );
  });

  it('stage serves a verified copy, skipping a corrupt replica; delete removes every copy', async () => {
    const body = randomBytes(300_000);
    const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
    assert.equal((await w.queue.waitFor('store', jobId!)).state, 'completed');
    flipByte(join(se.data(1), contentPath(objectId)), 10);
    await w.upsertSe({ name: 'se2', url: se.url(2), weight: 1 });
    const stid = await w.queue.send('stage', { objectId });
    const st = await w.queue.waitFor('stage', stid!);
    assert.equal(st.state, 'completed', JSON.stringify(st.output));
    assert.ok(readFileSync((st.output as { path: string }).path).equals(body));
    const did = await w.queue.send('delete', { objectId });
    assert.equal((await w.queue.waitFor('delete', did!)).state, 'completed');
    for (const n of [1, 2] as const) assert.ok(!existsSync(join(se.data(n), contentPath(objectId))));
    assert.equal(await w.orm.em.fork().findOne(StoredObject, objectId), null);
  });

  it('an SE marked lost has its objects copied again to another SE', async () => {
    const local = join(scratch, 'local-se');
    await w.upsertSe({ name: 'local', url: pathToFileURL(local).href, weight: 0 });
    try {
      const body = randomBytes(50_000);
      const { objectId, jobId } = await w.ingest(spoolFile(body), { copies: 2 });
      assert.equal((await w.queue.waitFor('store', jobId!)).state, 'completed');
      const onSes = (await replicas(objectId)).map((r) => r.se);
      assert.ok(!onSes.includes('local'));
      await w.setSeStatus(onSes[0]!, 'lost');
      const localCopy = join(local, contentPath(objectId));
      for (let i = 0; i < 100 && !existsSync(localCopy); i++) await sleep(100);
      assert.ok(readFileSync(localCopy).equals(body));
    } finally {
      await w.setSeStatus('se1', 'up');
      await w.setSeStatus('se2', 'up');
    }
  });
});
