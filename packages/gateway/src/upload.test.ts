import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, renameSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { CORPUS, run, startTestGateway, type TestGateway, tempDir, until } from './testing/harness.js';
import { type Orthanc, startOrthanc } from './testing/orthanc.js';
import { makePki } from './testing/pki.js';
import { acceptedUids } from './upload/stow.uploader.js';

function httpsJson(url: string, pki: { ca: string; cert: string; key: string }): Promise<unknown> {
  return new Promise((resolve, reject) => {
    https
      .get(
        url,
        { agent: false, ca: readFileSync(pki.ca), cert: readFileSync(pki.cert), key: readFileSync(pki.key) },
        (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve(JSON.parse(body)));
        },
      )
      .on('error', reject);
  });
}

// Orthanc 1.10.1's own HTTPS (civetweb) segfaults on this Debian's OpenSSL 3 as soon as a request arrives, so
// mutual TLS is terminated in front of Orthanc's HTTP port by a TLS server (Node's OpenSSL binding) that requires
// a client certificate signed by our CA and pipes the bytes through. (socat OPENSSL-LISTEN with verify=1 gave the
// same results by hand; it is not among the CI packages.)
describe('STOW-RS upload with the gateway certificate (mutual TLS) to Orthanc', () => {
  let dir: string;
  let pki: Awaited<ReturnType<typeof makePki>>;
  let orthanc: Orthanc;
  let terminator: tls.Server;
  let tlsUrl: string;
  const refused: string[] = [];
  const gateways: TestGateway[] = [];
  before(async () => {
    dir = tempDir('medgrid-pki-');
    pki = await makePki(dir);
    orthanc = await startOrthanc();
    const target = new URL(orthanc.url);
    terminator = tls.createServer(
      {
        key: readFileSync(path.join(dir, 'srv.key')),
        cert: readFileSync(path.join(dir, 'srv.pem')),
        ca: readFileSync(pki.ca),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (client) => {
        const upstream = net.connect(Number(target.port), '127.0.0.1');
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end);
        upstream.on('error', end);
      },
    );
    terminator.on('tlsClientError', (err) => refused.push(err.message));
    await new Promise<void>((r) => terminator.listen(0, '127.0.0.1', () => r()));
    tlsUrl = `https://127.0.0.1:${(terminator.address() as net.AddressInfo).port}`;
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await new Promise<void>((r) => terminator.close(() => r()));
    await orthanc.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const dicomFiles = ['CT_small.dcm', 'MR_small.dcm'].map((f) => path.join(CORPUS, 'pydicom/test_files', f));

  test('with its client certificate the gateway uploads; Orthanc holds the de-identified instances', async () => {
    const t = await startTestGateway({
      MEDGRID_GATEWAY_STOW_URL: `${tlsUrl}/dicom-web/studies`,
      MEDGRID_GATEWAY_TLS_CERT: pki.cert,
      MEDGRID_GATEWAY_TLS_KEY: pki.key,
      MEDGRID_GATEWAY_TLS_CA: pki.ca,
    });
    gateways.push(t);
    const r = await run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), ...dicomFiles]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      await until(async () => (await t.gw.vault.backlogCounts()).uploaded === 2, 30_000),
      JSON.stringify(t.gw.errors.list()),
    );
    const ids = (await httpsJson(`${tlsUrl}/instances`, pki)) as string[];
    assert.equal(ids.length, 2);
    const tags = (await httpsJson(`${tlsUrl}/instances/${ids[0]}/simplified-tags`, pki)) as Record<
      string,
      string
    >;
    assert.equal(tags.PatientIdentityRemoved, 'YES');
  });

  test('without a client certificate the server refuses it, and the instances stay in the backlog', async () => {
    const t = await startTestGateway({
      MEDGRID_GATEWAY_STOW_URL: `${tlsUrl}/dicom-web/studies`,
      MEDGRID_GATEWAY_TLS_CA: pki.ca,
      MEDGRID_GATEWAY_STOW_MAX_BACKOFF_MS: '500',
    });
    gateways.push(t);
    const r = await run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), dicomFiles[0]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await until(async () => t.gw.errors.list().some((e) => e.where === 'upload'), 20_000));
    assert.ok(
      refused.some((m) => /certificate/i.test(m)),
      `the TLS server refused the handshake: ${refused.join('; ')}`,
    );
    assert.deepEqual(await t.gw.vault.backlogCounts(), { pending: 1, uploaded: 0, failed: 0 });
  });

  test('a certificate renewed on disk is used without a restart: refused with the old one, uploaded with the new', async () => {
    const gwTls = { cert: path.join(dir, 'gw.pem'), key: path.join(dir, 'gw.key') };
    // The "old" certificate: one the server does not trust.
    const r0 = await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      gwTls.key,
      '-out',
      gwTls.cert,
      '-subj',
      '/CN=not ours',
      '-days',
      '1',
    ]);
    assert.equal(r0.code, 0, r0.stderr);
    const t = await startTestGateway({
      MEDGRID_GATEWAY_STOW_URL: `${tlsUrl}/dicom-web/studies`,
      MEDGRID_GATEWAY_TLS_CERT: gwTls.cert,
      MEDGRID_GATEWAY_TLS_KEY: gwTls.key,
      MEDGRID_GATEWAY_TLS_CA: pki.ca,
      MEDGRID_GATEWAY_STOW_MAX_BACKOFF_MS: '500',
      MEDGRID_GATEWAY_TLS_RELOAD_SECONDS: '0.2',
    });
    gateways.push(t);
    const before = refused.length;
    const r = await run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), dicomFiles[1]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      await until(async () => refused.length > before, 20_000),
      'the old certificate was not refused',
    );
    assert.equal((await t.gw.vault.backlogCounts()).uploaded, 0);
    // Renewal as medgrid start does it: new files renamed into place.
    copyFileSync(pki.cert, `${gwTls.cert}.tmp`);
    copyFileSync(pki.key, `${gwTls.key}.tmp`);
    renameSync(`${gwTls.key}.tmp`, gwTls.key);
    renameSync(`${gwTls.cert}.tmp`, gwTls.cert);
    assert.ok(
      await until(async () => (await t.gw.vault.backlogCounts()).uploaded === 1, 30_000),
      JSON.stringify(t.gw.errors.list()),
    );
  });

  test('STOW-RS response parsing: only instances in ReferencedSOPSequence count as stored', () => {
    const body = JSON.stringify({
      '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] } }] },
      '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.4'] } }] },
    });
    assert.deepEqual([...acceptedUids(body, ['1.2.3', '1.2.4'], 202)], ['1.2.3']);
    assert.deepEqual([...acceptedUids('', ['1.2.3'], 200)], ['1.2.3']);
    assert.deepEqual([...acceptedUids('<html>', ['1.2.3'], 202)], []);
  });
});

describe('retrieve falls back to the server WADO-RS when the local cache lost an object', () => {
  test('C-MOVE after the cache is emptied: fetched from Orthanc WADO-RS, restored bit for bit', async () => {
    const orthanc = await startOrthanc();
    const dir = tempDir('medgrid-wado-dest-');
    const { startStoreScp, filesByUid, moveStudyArgs } = await import('./testing/peers.js');
    const dest = await startStoreScp(dir, 'STORESCP');
    const t = await startTestGateway({
      MEDGRID_GATEWAY_STOW_URL: `${orthanc.url}/dicom-web/studies`,
      MEDGRID_GATEWAY_WADO_URL: `${orthanc.url}/dicom-web`,
      MEDGRID_GATEWAY_PEERS: `STORESCP=127.0.0.1:${dest.port}`,
    });
    try {
      const file = path.join(CORPUS, 'pydicom/test_files/CT_small.dcm');
      // What storescu puts on the wire, as a bit-preserving storescp receives it: the reference.
      const ref = await run('storescu', ['-aec', 'STORESCP', '127.0.0.1', String(dest.port), file]);
      assert.equal(ref.code, 0, ref.stderr);
      const expected = [...filesByUid(dir).values()][0]!.sha;
      for (const f of (await import('node:fs')).readdirSync(dir)) rmSync(path.join(dir, f));
      const r = await run('storescu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port), file]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(await until(async () => (await t.gw.vault.backlogCounts()).uploaded === 1, 30_000));
      const before = await t.gw.vault.query<{ sha256: string; study_instance_uid: string }>(
        'select sha256, study_instance_uid from vault_instance',
      );
      for (const f of (await import('node:fs')).readdirSync(path.join(t.gw.cache.dir, 'packs'))) {
        rmSync(path.join(t.gw.cache.dir, 'packs', f));
      }
      const m = await run('movescu', moveStudyArgs(t.gw.port, before.rows[0]!.study_instance_uid));
      assert.equal(m.code, 0, m.stderr);
      const got = [...filesByUid(dir).values()];
      assert.equal(got.length, 1);
      assert.equal(got[0]!.sha, expected, 'the dataset storescu sent, restored from the server copy');
      assert.ok(t.gw.errors.list().every((e) => e.where !== 'retrieve'));
    } finally {
      await t.stop();
      await dest.stop();
      await orthanc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
