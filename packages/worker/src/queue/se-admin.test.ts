import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { contentPath } from '../backends/path.util.js';
import { Replica } from '../replicas/storage.entity.js';
import { ThrowawayDb } from '../testing/pg.harness.js';
import { StorageQueue } from './storage.queue.js';
import { ensureStorageSchema, StorageWorker } from './storage.worker.js';

/** A TCP port nobody listens on (bound, then closed): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * What an administrator's SE status changes do to the worker, on real local-directory SEs and a real queue:
 * a disabled (down) SE gets nothing, a draining SE's copies move elsewhere and are deleted from it, and a
 * job failed by an unreachable SE is listed with its reason and completes when retried after the SE is
 * disabled. The queue is read through a client StorageQueue, as the server's admin API does.
 */
describe('SE enable / disable / drain and failed-job retry (local-directory SEs)', () => {
  const db = new ThrowawayDb();
  let w: StorageWorker;
  let client: StorageQueue;
  let scratch = '';
  const dir = (n: string) => join(scratch, `se-${n}`);
  const spoolFile = (bytes: Buffer): string => {
    const p = join(scratch, 'spool', randomBytes(8).toString('hex'));
    writeFileSync(p, bytes);
    return p;
  };
  const replicas = async (objectId: string) =>
    (await w.orm.em.fork().find(Replica, { object: objectId }, { populate: ['se'] }))
      .map((r) => `${r.se.name}:${r.state}`)
      .sort();

  before(async () => {
    await db.create();
    scratch = mkdtempSync(join(tmpdir(), 'medgrid-se-admin-'));
    mkdirSync(join(scratch, 'spool'));
    w = await StorageWorker.create({
      databaseUrl: db.url,
      stageDir: join(scratch, 'stage'),
      logger: pino({ level: 'silent' }),
      queue: { retryLimit: 0, retryDelay: 1, pollingIntervalSeconds: 0.5, monitorIntervalSeconds: 1 },
    });
    await ensureStorageSchema(w.orm);
    for (const n of ['a', 'b', 'c']) {
      mkdirSync(dir(n));
      await w.upsertSe({ name: n, url: pathToFileURL(dir(n)).href });
    }
    await w.run();
    client = new StorageQueue({ connectionString: db.url, client: true });
    await client.start();
  });

  after(async () => {
    await client?.stop(2000);
    await w?.stop(5000);
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  let objectId = '';
  it('a disabled SE receives no copy; enabled again, it is used', async () => {
    await w.setSeStatus('c', 'down');
    const body = randomBytes(64 * 1024);
    const r = await w.ingest(spoolFile(body), { copies: 2 });
    objectId = r.objectId;
    const job = await w.queue.waitFor('store', r.jobId!);
    assert.equal(job.state, 'completed', JSON.stringify(job.output));
    assert.deepEqual(await replicas(objectId), ['a:ok', 'b:ok']);
    assert.ok(!existsSync(join(dir('c'), contentPath(objectId))), 'nothing written to the disabled SE');
    assert.ok(readFileSync(join(dir('a'), contentPath(objectId))).equals(body));
    await w.setSeStatus('c', 'up');
  });

  it('draining an SE moves its copies to another SE and deletes them from it', async () => {
    const queued = await w.setSeStatus('a', 'draining');
    assert.equal(queued, 1);
    const [job] = await client.list({
      states: ['created', 'retry', 'active', 'completed'],
      kinds: ['replicate'],
    });
    assert.ok(job, 'a replicate job is queued');
    const done = await w.queue.waitFor('replicate', job.id);
    assert.equal(done.state, 'completed', JSON.stringify(done.output));
    assert.deepEqual(await replicas(objectId), ['b:ok', 'c:ok']);
    assert.ok(!existsSync(join(dir('a'), contentPath(objectId))), 'the draining SE no longer holds it');
    assert.ok(existsSync(join(dir('c'), contentPath(objectId))));
  });

  it('an unreachable SE fails the store job; listed with its reason, retried after disabling it, it completes', async () => {
    await w.upsertSe({ name: 'broken', url: `davs://127.0.0.1:${await closedPort()}/se` });
    const r = await w.ingest(spoolFile(randomBytes(4096)), { copies: 3 });
    const failed = await w.queue.waitFor('store', r.jobId!);
    assert.equal(failed.state, 'failed');
    const listed = await client.list({ states: ['failed'] });
    const mine = listed.find((j) => j.id === r.jobId);
    assert.ok(mine, 'the failed job is listed');
    assert.equal(mine.kind, 'store');
    assert.match(mine.reason, /^SE broken: 2 of 3 copies stored/);
    assert.deepEqual(mine.data, { objectId: r.objectId });
    const counts = await client.counts();
    assert.ok(counts.some((c) => c.kind === 'store' && c.state === 'failed' && c.count >= 1));

    await w.setSeStatus('broken', 'down');
    await client.retry('store', r.jobId!);
    const again = await w.queue.waitFor('store', r.jobId!);
    assert.equal(again.state, 'completed', JSON.stringify(again.output));
    assert.equal((again.output as { underReplicated: boolean }).underReplicated, true);
    assert.equal((await client.find(r.jobId!))?.state, 'completed');
    assert.equal(await client.find('not-a-uuid'), null);
  });

  it("a process started without retry settings (the server) keeps the worker's queue settings", async () => {
    const plain = new StorageQueue({ connectionString: db.url });
    await plain.start();
    try {
      assert.equal((await plain.boss.getQueue('medgrid-storage-store'))?.retryLimit, 0);
    } finally {
      await plain.stop(2000);
    }
  });
});
