import assert from 'node:assert/strict';
import { readdirSync, rmSync, utimesSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CORPUS, run, startTestGateway, type TestGateway, tempDir, until } from '../testing/harness.js';
import { type Orthanc, startOrthanc } from '../testing/orthanc.js';
import { filesByUid, moveStudyArgs, type StoreScp, startStoreScp } from '../testing/peers.js';

const FILES = ['CT_small.dcm', 'MR_small.dcm'].map((f) => path.join(CORPUS, 'pydicom/test_files', f));

const packsOf = (t: TestGateway) => readdirSync(path.join(t.gw.cache.dir, 'packs'));

/** One storescu association per file, so each instance lands in its own cache pack. */
async function storeEach(t: TestGateway, files: string[]): Promise<void> {
  const count = async () =>
    Number((await t.gw.vault.query<{ n: string }>('select count(*) as n from vault_instance')).rows[0]!.n);
  for (const f of files) {
    const before = await count();
    const r = await run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), f]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await until(async () => (await count()) === before + 1, 10_000), 'recorded in the vault');
  }
}

async function moveStudy(t: TestGateway, studyUid: string): Promise<void> {
  const m = await run('movescu', moveStudyArgs(t.gw.port, studyUid));
  assert.equal(m.code, 0, m.stderr);
}

// Orthanc (DICOMweb plugin) stands in for the central server: STOW-RS target and WADO-RS source.
describe('gateway cache eviction (size and age bounds)', () => {
  let orthanc: Orthanc;
  let destDir: string;
  let dest: StoreScp;
  /** SHA-256 of each dataset as storescu puts it on the wire (a bit-preserving storescp received it). */
  let expected: Map<string, string>;
  const gateways: TestGateway[] = [];
  before(async () => {
    orthanc = await startOrthanc();
    destDir = tempDir('medgrid-evict-dest-');
    dest = await startStoreScp(destDir, 'STORESCP');
    const ref = await run('storescu', ['-aec', 'STORESCP', '127.0.0.1', String(dest.port), ...FILES]);
    assert.equal(ref.code, 0, ref.stderr);
    expected = new Map([...filesByUid(destDir)].map(([uid, v]) => [uid, v.sha]));
    assert.equal(expected.size, 2);
    for (const f of readdirSync(destDir)) rmSync(path.join(destDir, f));
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await dest.stop();
    await orthanc.stop();
    rmSync(destDir, { recursive: true, force: true });
  });

  const gateway = async (env: Record<string, string>) => {
    const t = await startTestGateway({
      MEDGRID_GATEWAY_WADO_URL: `${orthanc.url}/dicom-web`,
      MEDGRID_GATEWAY_PEERS: `STORESCP=127.0.0.1:${dest.port}`,
      // Sweeps are run by the test; the timer would race it.
      MEDGRID_GATEWAY_CACHE_SWEEP_SECONDS: '3600',
      ...env,
    });
    gateways.push(t);
    return t;
  };

  test('over the size bound, uploaded packs are evicted; C-MOVE then restores the original bytes from the server', async () => {
    const t = await gateway({
      MEDGRID_GATEWAY_STOW_URL: `${orthanc.url}/dicom-web/studies`,
      MEDGRID_GATEWAY_CACHE_MAX_MB: '0',
    });
    await storeEach(t, FILES);
    assert.ok(
      await until(async () => (await t.gw.vault.backlogCounts()).uploaded === 2, 30_000),
      JSON.stringify(t.gw.errors.list()),
    );
    assert.equal(packsOf(t).length, 2);
    const r = await t.gw.evictor!.sweep();
    assert.deepEqual(
      { evicted: r.evictedPacks, left: r.packs, bytes: r.bytes, pinned: r.pinned },
      { evicted: 2, left: 0, bytes: 0, pinned: 0 },
    );
    assert.deepEqual(packsOf(t), [], 'the pack files are gone');
    const refs = await t.gw.vault.query<{ n: string }>(
      'select count(*) as n from vault_instance where cache_ref is not null',
    );
    assert.equal(Number(refs.rows[0]!.n), 0);
    const status = (await t.gw.status()) as { cache: { bytes: number; enforced: boolean } };
    assert.equal(status.cache.enforced, true);
    assert.equal(status.cache.bytes, 0);
    assert.match(await t.gw.metrics.registry.metrics(), /medgrid_gateway_cache_evicted_packs_total 2/);

    const studies = await t.gw.vault.query<{ study_instance_uid: string }>(
      'select distinct study_instance_uid from vault_instance',
    );
    for (const s of studies.rows) await moveStudy(t, s.study_instance_uid);
    const got = new Map([...filesByUid(destDir)].map(([uid, v]) => [uid, v.sha]));
    assert.deepEqual(got, expected, 'every dataset restored bit for bit from the server copy');
    assert.ok(
      t.gw.errors.list().every((e) => e.where !== 'retrieve'),
      JSON.stringify(t.gw.errors.list()),
    );
    for (const f of readdirSync(destDir)) rmSync(path.join(destDir, f));
  });

  test('objects the server has not acknowledged are never evicted, whatever the bound', async () => {
    // A STOW-RS endpoint nobody listens on: the instances stay in the upload backlog.
    const closed = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => closed.once('listening', r));
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    const t = await gateway({
      MEDGRID_GATEWAY_STOW_URL: `http://127.0.0.1:${port}/dicom-web/studies`,
      MEDGRID_GATEWAY_CACHE_MAX_MB: '0',
      MEDGRID_GATEWAY_CACHE_MAX_AGE_HOURS: '0.0001',
    });
    await storeEach(t, FILES.slice(0, 1));
    assert.equal((await t.gw.vault.backlogCounts()).pending, 1);
    const r = await t.gw.evictor!.sweep(Date.now() + 3600_000);
    assert.deepEqual(
      { evicted: r.evictedPacks, pinned: r.pinned, left: r.packs },
      { evicted: 0, pinned: 1, left: 1 },
    );
    assert.equal(packsOf(t).length, 1);
  });

  test('the age bound evicts old uploaded packs and keeps recent ones', async () => {
    const t = await gateway({
      MEDGRID_GATEWAY_STOW_URL: `${orthanc.url}/dicom-web/studies`,
      MEDGRID_GATEWAY_CACHE_MAX_AGE_HOURS: '1',
    });
    await storeEach(t, FILES);
    assert.ok(await until(async () => (await t.gw.vault.backlogCounts()).uploaded === 2, 30_000));
    const [old, recent] = (
      await t.gw.vault.query<{ cache_ref: string; sop_instance_uid: string }>(
        'select cache_ref, sop_instance_uid from vault_instance order by received_at',
      )
    ).rows;
    const oldPack = old!.cache_ref.split(':')[0]!;
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(path.join(t.gw.cache.dir, 'packs', oldPack), twoHoursAgo, twoHoursAgo);
    const r = await t.gw.evictor!.sweep();
    assert.equal(r.evictedPacks, 1);
    assert.deepEqual(packsOf(t), [recent!.cache_ref.split(':')[0]]);
  });
});
