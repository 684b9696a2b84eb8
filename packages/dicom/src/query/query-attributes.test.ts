import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { deidentify } from '../deid/deidentify.service.js';
import { BASIC_PROFILE } from '../deid/profile.model.js';
import { DicomError } from '../errors/dicom.error.js';
import { corpusFiles } from '../testing/corpus.fixture.js';
import { extractQueryAttributes } from './query-attributes.service.js';

function corpus(path: string): Buffer {
  return readFileSync(corpusFiles().find((f) => f.path === path)!.abs);
}

describe('extractQueryAttributes', () => {
  test('CT_small: patient, study, series and instance attributes', () => {
    const q = extractQueryAttributes(corpus('pydicom/test_files/CT_small.dcm'));
    assert.equal(q.patientName, 'CompressedSamples^CT1');
    assert.equal(q.patientId, '1CT1');
    assert.equal(q.modality, 'CT');
    assert.equal(q.studyDate, '20040119');
    assert.match(q.studyInstanceUid!, /^1\.3\.6\.1\.4\.1\.5962\./);
    assert.equal(q.sopClassUid, '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(q.rows, 128);
    assert.equal(q.columns, 128);
    assert.equal(q.transferSyntaxUid, '1.2.840.10008.1.2.1');
    // Geometry the viewer orders slices by; DS strings as stored, backslash-separated.
    assert.deepEqual(q.imagePositionPatient!.split('\\').map(Number), [-158.135803, -179.035797, -75.699997]);
    assert.deepEqual(q.imageOrientationPatient!.split('\\').map(Number), [1, 0, 0, 0, 1, 0]);
  });

  test('big endian and implicit VR give the same answers as little endian explicit', () => {
    const le = extractQueryAttributes(corpus('pydicom/test_files/MR_small.dcm'));
    const be = extractQueryAttributes(corpus('pydicom/test_files/MR_small_bigendian.dcm'));
    const im = extractQueryAttributes(corpus('pydicom/test_files/MR_small_implicit.dcm'));
    for (const q of [be, im]) {
      assert.equal(q.patientName, le.patientName);
      assert.equal(q.rows, le.rows);
      assert.equal(q.sopInstanceUid, le.sopInstanceUid);
    }
  });

  test('a bare dataset needs its transfer syntax', () => {
    const b = corpus('pydicom/test_files/ExplVR_BigEndNoMeta.dcm');
    assert.throws(
      () => extractQueryAttributes(b),
      (e) => e instanceof DicomError && e.code === 'MISSING_META',
    );
    assert.ok(extractQueryAttributes(b, { transferSyntaxUid: '1.2.840.10008.1.2.2' }).sopInstanceUid);
  });
});

describe('de-identification summary', () => {
  test('burned-in text risk: ultrasound and secondary capture flagged, CT and MR not', () => {
    const risk = (path: string) =>
      deidentify(corpus(path), { profile: BASIC_PROFILE, secret: 'summary-secret-0123456789' }).summary
        .burnedInTextRisk;
    assert.equal(risk('octave-dicom/US-PAL-8-10x-echo.dcm'), true);
    assert.equal(risk('pydicom/test_files/SC_rgb_rle.dcm'), true);
    assert.equal(risk('pydicom/test_files/CT_small.dcm'), false);
    assert.equal(risk('pydicom/test_files/MR_small.dcm'), false);
  });

  test('counts and new UIDs', () => {
    const r = deidentify(corpus('pydicom/test_files/CT_small.dcm'), {
      profile: BASIC_PROFILE,
      secret: 'summary-secret-0123456789',
    });
    const s = r.summary;
    assert.ok(s.actions.X > 100, 'private tags removed');
    assert.ok(s.actions.U >= 3);
    assert.equal(s.inserted, 1);
    assert.match(s.newSopInstanceUid!, /^2\.25\.\d+$/);
    assert.equal(s.edition, '2024e');
    assert.equal(s.profile, 'basic@1');
    assert.equal(s.deidentifiedSize, r.deidentified.length);
  });
});
