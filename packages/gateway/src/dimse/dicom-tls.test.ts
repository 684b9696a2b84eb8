import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CORPUS, run, startTestGateway, type TestGateway, tempDir } from '../testing/harness.js';
import { makePki } from '../testing/pki.js';

// DICOM TLS (PS3.15 Annex B) with dcmtk's own TLS client options.
describe('DICOM TLS port (optional) with dcmtk echoscu and storescu', () => {
  let t: TestGateway;
  let dir: string;
  let pki: Awaited<ReturnType<typeof makePki>>;
  before(async () => {
    dir = tempDir('medgrid-dicom-tls-');
    pki = await makePki(dir);
    t = await startTestGateway({
      MEDGRID_GATEWAY_DICOM_TLS_PORT: '0',
      MEDGRID_GATEWAY_DICOM_TLS_CERT: pki.serverCert,
      MEDGRID_GATEWAY_DICOM_TLS_KEY: pki.serverKey,
      MEDGRID_GATEWAY_DICOM_TLS_CA: pki.ca,
    });
  });
  after(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const tlsArgs = () => ['+tls', pki.key, pki.cert, '+cf', pki.ca];

  test('a peer with a certificate from the trusted CA echoes and stores over TLS', async () => {
    const port = String(t.gw.tlsPort);
    const e = await run('echoscu', [...tlsArgs(), '-aec', 'MEDGRID', '127.0.0.1', port]);
    assert.equal(e.code, 0, e.stderr);
    const s = await run('storescu', [
      ...tlsArgs(),
      '-aec',
      'MEDGRID',
      '127.0.0.1',
      port,
      path.join(CORPUS, 'pydicom/test_files/CT_small.dcm'),
    ]);
    assert.equal(s.code, 0, s.stderr);
    await t.gw.ingest.drained();
    const n = await t.gw.vault.query<{ n: string }>('select count(*) as n from vault_instance');
    assert.equal(Number(n.rows[0]!.n), 1);
  });

  test('without a client certificate, or without TLS, the TLS port refuses; the plain port still works', async () => {
    const port = String(t.gw.tlsPort);
    const anon = await run('echoscu', ['+tla', '+cf', pki.ca, '-aec', 'MEDGRID', '127.0.0.1', port]);
    assert.notEqual(anon.code, 0);
    const plain = await run('echoscu', ['-aec', 'MEDGRID', '127.0.0.1', port], { timeoutMs: 20_000 });
    assert.notEqual(plain.code, 0);
    const ok = await run('echoscu', ['-aec', 'MEDGRID', '127.0.0.1', String(t.gw.port)]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
